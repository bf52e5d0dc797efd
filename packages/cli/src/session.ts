import { masterpostClient } from '@masterpost/client';
import { configFile, gatewayUrl, readConfig } from './config-store';
import { usageError } from './exit-codes';
import { anonymous, failure, reach, type Connection } from './gateway';
import { currentPassword } from './password-input';
import { ask, canAsk } from './prompt';

/**
 * A signed-in session, for the few routes the gateway keeps from API keys (making, listing and
 * revoking keys, changing the password): a leaked key must not be able to mint more keys or take
 * the account. The CLI stores only a key, so these commands sign in again with the password,
 * use the short-lived session for their one request, and write nothing down.
 */
export interface SessionConnection extends Connection {
  email: string;
}

/**
 * The address of the account a key stands for (GET /auth/me), so a seller signed in on this
 * computer is not asked for it again; undefined for a revoked or foreign key.
 */
export async function keyAccountEmail(url: string, apiKey: string | undefined): Promise<string | undefined> {
  if (!apiKey) return undefined;
  const keyed: Connection = { client: masterpostClient({ baseUrl: url, apiKey }), url };
  const me = await reach(keyed, () => keyed.client.GET('/auth/me'));
  if (me.data) return me.data.email;
  if (me.response.status !== 401) throw failure('reading your account', keyed, me);
  return undefined;
}

/** The address to sign in with: --email, else the stored key's account, else asked. */
async function emailFor(url: string, emailOption: string | undefined, apiKey: string | undefined): Promise<string> {
  if (emailOption) return emailOption;
  const keyed = await keyAccountEmail(url, apiKey);
  if (keyed) return keyed;
  const typed = canAsk() ? await ask('Email: ') : undefined;
  if (!typed) throw usageError(`give --email: this needs your password, and there is no signed-in key in ${configFile()} to tell whose`);
  return typed;
}

export async function passwordSession(options: { url?: string; email?: string; password?: string }): Promise<SessionConnection> {
  const stored = await readConfig();
  const url = gatewayUrl(options.url, stored);
  const email = await emailFor(url, options.email, process.env.MASTERPOST_API_KEY ?? stored?.api_key);
  const password = options.password ?? (await currentPassword(`Password for ${email}: `));
  const connection = anonymous(url);
  const session = await reach(connection, () => connection.client.POST('/auth/login', { body: { email, password } }));
  if (!session.data) {
    if (session.response.status === 401) throw usageError(`wrong email or password for ${email}. Forgot it? masterpost account forgot-password --email ${email}`);
    throw failure('signing in', connection, session);
  }
  if (session.data.password_required) throw usageError('this account has no password yet: run "masterpost login --email <you> --access-code" once to choose one');
  return { client: masterpostClient({ baseUrl: url, accessToken: session.data.access_token }), url, email: session.data.user.email };
}

