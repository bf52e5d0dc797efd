import { masterpostClient } from '@masterpost/client';
import { DEFAULT_GATEWAY_URL, writeConfig } from '../config-store';
import { ExitCode, usageError } from '../exit-codes';
import { anonymous, errorDetails, failure, reach, type Connection } from '../gateway';
import { print } from '../output';
import { PASSWORD_ENV, checkNewPassword } from '../password-input';
import { askHidden, canAsk } from '../prompt';
import { emailIn } from './account-mail';
import { keyName } from './login';

/**
 * `masterpost signup --email`: a new account (with the gateway's free credits), and, as
 * `login --email` does, a key named after this computer stored for the other commands. Where
 * the gateway wants the address proven first (it mails a link), no key can be made yet: the
 * seller is told to follow the link (or `masterpost account verify <link>`), then log in.
 */
async function newPassword(): Promise<string> {
  let password = process.env[PASSWORD_ENV];
  if (password === undefined) {
    if (!canAsk()) throw usageError(`set $${PASSWORD_ENV} or run in a terminal to choose the password`);
    password = await askHidden('Choose a password (at least 8 characters): ');
    if ((await askHidden('The same again: ')) !== password) throw usageError('the two passwords differ; no account was made');
  }
  checkNewPassword(password);
  return password;
}

export async function signup(options: { url?: string; email?: string }): Promise<ExitCode> {
  const url = (options.url ?? process.env.MASTERPOST_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  if (!options.email) throw usageError('give --email you@example.com: the address of the new account');
  const email = emailIn(options.email, '--email');
  const password = await newPassword();
  const connection = anonymous(url);
  const made = await reach(connection, () => connection.client.POST('/auth/register', { body: { email, password } }));
  if (!made.data) {
    if (errorDetails(made.error).code === 'email_taken') throw usageError(`${email} already has an account: masterpost login --email ${email} (forgot the password? masterpost account forgot-password --email ${email})`);
    throw failure('making the account', connection, made);
  }
  print(`Made the account ${made.data.user.email} at ${url}.`);

  const session: Connection = { client: masterpostClient({ baseUrl: url, accessToken: made.data.access_token }), url };
  const key = await reach(session, () => session.client.POST('/api/v1/keys', { body: { name: keyName() } }));
  if (!key.data) {
    if (errorDetails(key.error).code === 'email_not_verified') {
      print(`We mailed a link to ${email}: follow it (or run "masterpost account verify <link>") to prove the address; your free credits come with it.`);
      print(`Then sign in here: masterpost login --email ${email}`);
      return ExitCode.Delivered;
    }
    throw failure('making an API key', session, key);
  }
  const file = await writeConfig({ url, api_key: key.data.key });
  print(`Signed in: API key ${key.data.key.slice(0, 10)}… stored in ${file} (readable by you alone); it is named "${keyName()}" on the web page.`);
  print(`${made.data.credits.available} credits available.`);
  return ExitCode.Delivered;
}
