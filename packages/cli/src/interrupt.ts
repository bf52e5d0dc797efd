import { ExitCode } from './exit-codes';
import { say } from './output';
import { stopMeters } from './progress';

/**
 * Ctrl-C during a run: the bars are stopped and the user is told what state things are in —
 * which depends on the step (nothing sent yet, an upload cut off, a job going on at the
 * gateway) — then the process ends with 130. The job itself is never cancelled: the pictures
 * being made are paid for and will be delivered, and the same command picks them up.
 */
let explanation = 'Interrupted.';

/** What to tell the user if Ctrl-C comes now; each step of a command sets its own. */
export function onInterruptSay(message: string): void {
  explanation = message;
}

export function installInterruptHandler(): void {
  process.once('SIGINT', () => {
    stopMeters();
    say(`\n${explanation}`);
    process.exit(ExitCode.Interrupted);
  });
}
