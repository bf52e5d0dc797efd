import { readConfig } from '../config-store';
import { ExitCode, usageError } from '../exit-codes';
import { failure, publicGateway, reach, signedIn, type Connection } from '../gateway';
import { tokenIn } from '../mailed-link';
import { print } from '../output';
import { chosenPassword, currentPassword } from '../password-input';
import { ask, canAsk } from '../prompt';
import { keyAccountEmail } from '../session';

/**
 * The account actions that go through a mail: proving the address, moving to a new one, and a
 * forgotten password. Asking for a mail needs the signed-in key (or, for a forgotten password,
 * only the address); following a mailed link needs nothing but the link, pasted whole or as its
 * token, since the token is the proof. The web page's /verify-email, /confirm-email and
 * /reset-password pages do the same when the link is opened in a browser.
 */
interface UrlOption {
  url?: string;
}

/** The gateway's message as a sentence of its own: capitalised and ended. */
export const sentence = (text: string): string => {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
};

/** A loose check of an address (the gateway checks it fully): enough to catch a swapped argument. */
export function emailIn(value: string, option = 'the address'): string {
  const email = value.trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw usageError(`${option} "${value}" is not an email address`);
  return email;
}

export async function resendVerification(options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.POST('/auth/verify-email/resend'));
  if (!answer.data) throw failure('asking for a new verification mail', connection, answer);
  print(sentence(answer.data.message));
  print('Follow its link, or paste it here: masterpost account verify <link>');
  return ExitCode.Delivered;
}

export async function verifyEmail(link: string, options: UrlOption): Promise<ExitCode> {
  const token = tokenIn(link);
  const connection = await publicGateway(options.url);
  const answer = await reach(connection, () => connection.client.POST('/auth/verify-email', { body: { token } }));
  if (!answer.data) throw failure('verifying the address', connection, answer);
  print(`${answer.data.email} is verified: ${answer.data.credits.available} credits available.`);
  if (!(await readConfig())) print(`Sign in to use them: masterpost login --email ${answer.data.email}`);
  return ExitCode.Delivered;
}

export async function changeEmail(newEmail: string, options: UrlOption): Promise<ExitCode> {
  const email = emailIn(newEmail, 'the new address');
  const connection = await signedIn(options.url);
  const password = await currentPassword();
  const answer = await reach(connection, () => connection.client.POST('/auth/email', { body: { new_email: email, password } }));
  if (!answer.data) throw failure(`changing the address to ${email}`, connection, answer);
  print(sentence(answer.data.message));
  print(`Follow it, or paste it here: masterpost account confirm-email <link>. Until then your address stays as it is.`);
  return ExitCode.Delivered;
}

export async function confirmEmail(link: string, options: UrlOption): Promise<ExitCode> {
  const token = tokenIn(link);
  const connection = await publicGateway(options.url);
  const answer = await reach(connection, () => connection.client.POST('/auth/email/confirm', { body: { token } }));
  if (!answer.data) throw failure('confirming the new address', connection, answer);
  print(`Your address is now ${answer.data.email}: sign in with it from now on (your API keys keep working).`);
  return ExitCode.Delivered;
}

/** The address a reset goes to: --email, else the signed-in key's account, else asked. */
async function addressFor(connection: Connection, emailOption: string | undefined): Promise<string> {
  if (emailOption) return emailIn(emailOption, '--email');
  const keyed = await keyAccountEmail(connection.url, process.env.MASTERPOST_API_KEY ?? (await readConfig())?.api_key);
  if (keyed) return keyed;
  const typed = canAsk() ? await ask('Email: ') : undefined;
  if (!typed) throw usageError('give --email: the address of the account whose password is forgotten');
  return emailIn(typed);
}

export async function forgotPassword(options: UrlOption & { email?: string }): Promise<ExitCode> {
  const connection = await publicGateway(options.url);
  const email = await addressFor(connection, options.email);
  const answer = await reach(connection, () => connection.client.POST('/auth/password/forgot', { body: { email } }));
  if (!answer.data) throw failure('asking for a password reset', connection, answer);
  // The gateway answers the same whether or not the address has an account (so nobody can probe for one).
  print(sentence(answer.data.message));
  print('Follow its link, or paste it here: masterpost account reset-password <link>');
  return ExitCode.Delivered;
}

export async function resetPassword(link: string, options: UrlOption): Promise<ExitCode> {
  const token = tokenIn(link);
  const password = await chosenPassword();
  const connection = await publicGateway(options.url);
  const answer = await reach(connection, () => connection.client.POST('/auth/password/reset', { body: { token, new_password: password } }));
  if (!answer.data) throw failure('setting the new password', connection, answer);
  print(`Password changed for ${answer.data.user.email}; every signed-in session was signed out (API keys keep working).`);
  print(`Sign in with it: masterpost login --email ${answer.data.user.email}`);
  return ExitCode.Delivered;
}
