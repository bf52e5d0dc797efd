/**
 * What the process's exit status means, so a script can act on it without reading the output:
 * a seller's shell loop re-runs on 3, fixes the folder on 1, and asks a person on 2.
 */
export const ExitCode = {
  /** Every picture was delivered. */
  Delivered: 0,
  /** Some pictures were not delivered (failed, cancelled or refused at upload); each is listed with why. */
  SomeFailed: 1,
  /** The command cannot go on as asked: a usage error, no or a refused API key, or not enough credits. */
  Usage: 2,
  /** The gateway could not be reached or answered a fault of its own; trying again later may work. */
  Unavailable: 3,
  /** Ctrl-C: the job (if any) goes on at the gateway; the same command resumes it. 128 + SIGINT, as shells do. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Help text shared by every command, so the codes are documented where a person looks. */
export const EXIT_CODES_HELP = `
Exit status:
  0    every picture delivered
  1    some pictures failed or were refused at upload (each listed with its reason)
  2    usage or sign-in error, or not enough credits (nothing is uploaded then)
  3    the gateway could not be reached or had a fault; try again
  130  interrupted (Ctrl-C); run the same command again to resume`;

/** Help text of the commands that act on the account, a key, a job or a picture rather than make pictures. */
export const ACTION_EXIT_CODES_HELP = `
Exit status:
  0    done
  2    usage or sign-in error (a wrong password included), the gateway refused (its message
       is printed), or the question was answered no
  3    the gateway could not be reached or had a fault; try again`;

/**
 * An error the user should read, with the status the process ends with. Thrown anywhere in a
 * command and turned into one line on stderr by main.ts, instead of a stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.Usage);
