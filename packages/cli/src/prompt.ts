import { createInterface } from 'node:readline/promises';
import { CliError, ExitCode } from './exit-codes';

/**
 * Questions asked in the terminal, on stderr so that stdout stays the command's result. Only
 * asked when stdin is a terminal: a script must pass --yes or set $MASTERPOST_PASSWORD rather
 * than hang on a question nobody sees.
 */
export const canAsk = (): boolean => process.stdin.isTTY === true;

export async function ask(question: string): Promise<string> {
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  // readline takes Ctrl-C for itself in a terminal; hand it on to the process's own handler.
  lines.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    return (await lines.question(question)).trim();
  } finally {
    lines.close();
  }
}

/** Yes only when the user types it: Enter alone keeps their credits. */
export async function confirm(question: string): Promise<boolean> {
  return /^y(es)?$/i.test(await ask(`${question} [y/N] `));
}

/** A password, typed without echo (raw mode: each key read as it is pressed, nothing printed). */
export function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of chunk.toString()) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          // Raw mode swallows Ctrl-C as a character; honour it as the interrupt it is.
          finish();
          reject(new CliError('Interrupted.', ExitCode.Interrupted));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    process.stderr.write(question);
    input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}

/**
 * Before something that cannot be undone (revoking a key, deleting a job or the account): --yes
 * goes ahead, a terminal is asked, and a script without --yes is stopped with the flag to pass
 * rather than left hanging on a question nobody sees. False when the user answered no.
 */
export async function confirmDanger(question: string, action: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!canAsk()) throw new CliError(`there is no terminal to confirm in: pass --yes to ${action} without being asked`, ExitCode.Usage);
  return confirm(question);
}
