import os from 'node:os';
import { masterpostClient } from '@masterpost/client';
import { DEFAULT_GATEWAY_URL, writeConfig } from '../config-store';
import { ExitCode, usageError } from '../exit-codes';
import { anonymous, errorDetails, failure, reach, type Connection } from '../gateway';
import { print } from '../output';
import { ask, askHidden, canAsk } from '../prompt';

/**
 * `masterpost login`: stores an API key for the later commands. With --key the key is stored
 * as it is (after the gateway accepts it); with --email the CLI signs in once and makes a key
 * named after this computer, so the seller can tell it apart on the web page and revoke it
 * alone. The password and the session are used for that one request and never written down.
 * A seller moved from the old Masterpost signs in once with --access-code (the code the old app
 * mailed them) and chooses a password in the same run: the code stops working then.
 */
export interface LoginOptions {
  url?: string;
  key?: string;
  email?: string;
  accessCode?: boolean;
}

/** At most 100 characters, as the gateway allows. */
export const keyName = (): string => `masterpost CLI on ${os.hostname()}`.slice(0, 100);

export async function login(options: LoginOptions): Promise<ExitCode> {
  const url = (options.url ?? process.env.MASTERPOST_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  if (options.key && options.email) throw usageError('give either --key or --email, not both');
  if (options.key && options.accessCode) throw usageError('--access-code signs in with an email: give --email, not --key');
  let apiKey: string;
  let madeFor: string | undefined;
  if (options.key) {
    if (!options.key.startsWith('mp_')) throw usageError('an API key starts with "mp_"; make one on the web page, or sign in with --email');
    apiKey = options.key;
  } else {
    const email = options.email ?? (canAsk() ? await ask('Email: ') : undefined);
    if (!email) throw usageError('give --key mp_... or --email you@example.com (there is no terminal to ask in)');
    if (options.accessCode) {
      const code = process.env.MASTERPOST_ACCESS_CODE ?? (canAsk() ? await askHidden('Access code from the old Masterpost (MP-XXXX-XXXX): ') : undefined);
      if (!code) throw usageError('set $MASTERPOST_ACCESS_CODE or run in a terminal to type the access code');
      apiKey = await makeKey(anonymous(url), { email, access_code: code });
    } else {
      const password = process.env.MASTERPOST_PASSWORD ?? (canAsk() ? await askHidden('Password: ') : undefined);
      if (!password) throw usageError('set $MASTERPOST_PASSWORD or run in a terminal to type the password');
      apiKey = await makeKey(anonymous(url), { email, password });
    }
    madeFor = email;
  }

  const connection: Connection = { client: masterpostClient({ baseUrl: url, apiKey }), url };
  const checked = await reach(connection, () => connection.client.GET('/credits/balance'));
  if (checked.response.status === 401) throw usageError(`the gateway at ${url} does not accept this API key (revoked, or made on another gateway?)`);
  if (!checked.data) throw failure('checking the key', connection, checked);
  const file = await writeConfig({ url, api_key: apiKey });
  print(`Signed in to ${url}${madeFor ? ` as ${madeFor}` : ''}.`);
  print(`API key ${apiKey.slice(0, 10)}… stored in ${file} (readable by you alone)${madeFor ? `; it is named "${keyName()}" on the web page, where it can be revoked` : ''}.`);
  print(`${checked.data.available} credits available.`);
  return ExitCode.Delivered;
}

type SignIn = { email: string; password: string } | { email: string; access_code: string };

async function makeKey(connection: Connection, credentials: SignIn): Promise<string> {
  const byCode = 'access_code' in credentials;
  const session = await reach(connection, () => connection.client.POST('/auth/login', { body: credentials }));
  if (!session.data) {
    const { code } = errorDetails(session.error);
    if (session.response.status === 401 || code === 'invalid_credentials') {
      throw usageError(byCode
        ? 'wrong email or access code, or the code was already replaced by a password: sign in with --email and the password'
        : `wrong email or password. Forgot the password? masterpost account forgot-password --email ${credentials.email} mails a reset link`);
    }
    throw failure('signing in', connection, session);
  }
  let token = session.data.access_token;
  if (session.data.password_required) token = await choosePassword(connection, token);
  // The session token makes the key and is then dropped: only the key is kept.
  const signedIn: Connection = { client: masterpostClient({ baseUrl: connection.url, accessToken: token }), url: connection.url };
  const made = await reach(signedIn, () => signedIn.client.POST('/api/v1/keys', { body: { name: keyName() } }));
  if (!made.data) throw failure('making an API key', signedIn, made);
  return made.data.key;
}

/**
 * A moved seller's first sign-in: the account has no password yet, and the access code works
 * only until one is chosen. From $MASTERPOST_NEW_PASSWORD, or typed twice without echo.
 */
async function choosePassword(connection: Connection, token: string): Promise<string> {
  let password = process.env.MASTERPOST_NEW_PASSWORD;
  if (password === undefined) {
    if (!canAsk()) throw usageError('this account needs a password before it can be used: set $MASTERPOST_NEW_PASSWORD, or run in a terminal to choose one');
    print('Welcome from the old Masterpost. Choose a password (at least 8 characters); your access code stops working once it is set.');
    password = await askHidden('New password: ');
    if ((await askHidden('The same again: ')) !== password) throw usageError('the two passwords differ; nothing was changed, run login again');
  }
  const signedIn: Connection = { client: masterpostClient({ baseUrl: connection.url, accessToken: token }), url: connection.url };
  const changed = await reach(signedIn, () => signedIn.client.POST('/auth/password', { body: { new_password: password } }));
  if (!changed.data) {
    if (changed.response.status === 400) throw usageError(`the new password is not accepted: ${errorDetails(changed.error).message ?? 'at least 8 characters'}`);
    throw failure('setting the password', signedIn, changed);
  }
  print('Password set: sign in with it from now on (the access code no longer works).');
  return changed.data.access_token;
}
