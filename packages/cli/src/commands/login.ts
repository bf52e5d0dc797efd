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
 */
export interface LoginOptions {
  url?: string;
  key?: string;
  email?: string;
}

/** At most 100 characters, as the gateway allows. */
const keyName = (): string => `masterpost CLI on ${os.hostname()}`.slice(0, 100);

export async function login(options: LoginOptions): Promise<ExitCode> {
  const url = (options.url ?? process.env.MASTERPOST_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  if (options.key && options.email) throw usageError('give either --key or --email, not both');
  let apiKey: string;
  let madeFor: string | undefined;
  if (options.key) {
    if (!options.key.startsWith('mp_')) throw usageError('an API key starts with "mp_"; make one on the web page, or sign in with --email');
    apiKey = options.key;
  } else {
    const email = options.email ?? (canAsk() ? await ask('Email: ') : undefined);
    if (!email) throw usageError('give --key mp_... or --email you@example.com (there is no terminal to ask in)');
    const password = process.env.MASTERPOST_PASSWORD ?? (canAsk() ? await askHidden('Password: ') : undefined);
    if (!password) throw usageError('set $MASTERPOST_PASSWORD or run in a terminal to type the password');
    apiKey = await makeKey(anonymous(url), email, password);
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

async function makeKey(connection: Connection, email: string, password: string): Promise<string> {
  const session = await reach(connection, () => connection.client.POST('/auth/login', { body: { email, password } }));
  if (!session.data) {
    const { code } = errorDetails(session.error);
    if (session.response.status === 401 || code === 'invalid_credentials') {
      throw usageError(`wrong email or password. Forgot the password? Reset it on the web page: ${connection.url}`);
    }
    throw failure('signing in', connection, session);
  }
  // The session token makes the key and is then dropped: only the key is kept.
  const signedIn: Connection = { client: masterpostClient({ baseUrl: connection.url, accessToken: session.data.access_token }), url: connection.url };
  const made = await reach(signedIn, () => signedIn.client.POST('/api/v1/keys', { body: { name: keyName() } }));
  if (!made.data) throw failure('making an API key', signedIn, made);
  return made.data.key;
}
