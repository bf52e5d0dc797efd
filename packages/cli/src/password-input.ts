import { usageError } from './exit-codes';
import { say } from './output';
import { askHidden, canAsk } from './prompt';

/**
 * Passwords for the account actions that need one (a key made, the address or the password
 * changed, the account deleted). Read from the environment for scripts, else typed without echo;
 * never stored, never printed, never passed as an argument (which `ps` would show).
 */
export const PASSWORD_ENV = 'MASTERPOST_PASSWORD';
export const NEW_PASSWORD_ENV = 'MASTERPOST_NEW_PASSWORD';
/** The gateway's floor (Credentials in the contract), checked here so a short one is not sent at all. */
export const MIN_PASSWORD_LENGTH = 8;

export async function currentPassword(prompt = 'Password: '): Promise<string> {
  const password = process.env[PASSWORD_ENV] ?? (canAsk() ? await askHidden(prompt) : undefined);
  if (!password) throw usageError(`set $${PASSWORD_ENV} or run in a terminal to type the password`);
  return password;
}

/** A password being chosen: $MASTERPOST_NEW_PASSWORD, or typed twice so a typo does not lock the seller out. */
export async function chosenPassword(): Promise<string> {
  let password = process.env[NEW_PASSWORD_ENV];
  if (password === undefined) {
    if (!canAsk()) throw usageError(`set $${NEW_PASSWORD_ENV} or run in a terminal to choose the new password`);
    say(`Choose a password (at least ${MIN_PASSWORD_LENGTH} characters).`);
    password = await askHidden('New password: ');
    if ((await askHidden('The same again: ')) !== password) throw usageError('the two passwords differ; nothing was changed');
  }
  checkNewPassword(password);
  return password;
}

export function checkNewPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw usageError(`the new password must be at least ${MIN_PASSWORD_LENGTH} characters (it has ${password.length})`);
}
