import type { Schemas } from '@masterpost/client';
import { readConfig } from '../config-store';
import { ExitCode, usageError } from '../exit-codes';
import { failure, reach } from '../gateway';
import { print, say } from '../output';
import { confirmDanger } from '../prompt';
import { passwordSession, type SessionConnection } from '../session';

/**
 * `masterpost keys list|create|revoke`: the seller's API keys, for their own code and CI. The
 * gateway takes these three requests from a signed-in session only (a key cannot make keys), so
 * each run signs in with the password ($MASTERPOST_PASSWORD, or asked) for that one request.
 */
type ApiKey = Schemas['ApiKey'];

interface KeyOptions {
  url?: string;
  email?: string;
}

const day = (iso: string): string => iso.slice(0, 16).replace('T', ' ');

/** The key this computer's CLI uses, told apart by its prefix so the seller does not revoke it unawares. */
async function storedKey(): Promise<string | undefined> {
  return process.env.MASTERPOST_API_KEY ?? (await readConfig())?.api_key;
}

const isThisComputers = (key: ApiKey, stored: string | undefined): boolean => stored !== undefined && stored.startsWith(key.prefix);

export function keyLine(key: ApiKey, stored: string | undefined): string {
  const use = key.last_used_at ? `last used ${day(key.last_used_at)}` : 'never used';
  const state = key.revoked_at ? `revoked ${day(key.revoked_at)}` : use;
  const mine = isThisComputers(key, stored) && !key.revoked_at ? '\t(this computer\'s key)' : '';
  return [key.id, `${key.prefix}…`, key.name, `created ${day(key.created_at)}`, state].join('\t') + mine;
}

async function keysOf(connection: SessionConnection): Promise<ApiKey[]> {
  const answer = await reach(connection, () => connection.client.GET('/api/v1/keys'));
  if (!answer.data) throw failure('listing your API keys', connection, answer);
  return answer.data.keys;
}

export async function listKeys(options: KeyOptions): Promise<ExitCode> {
  const connection = await passwordSession(options);
  const keys = await keysOf(connection);
  if (keys.length === 0) print('No API keys. Make one with: masterpost keys create --name <what it is for>');
  const stored = await storedKey();
  for (const key of keys) print(keyLine(key, stored));
  return ExitCode.Delivered;
}

/** The gateway's limits on a name (ApiKeyCreateRequest): 1 to 100 characters once trimmed. */
export function checkedKeyName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 100) throw usageError(`--name takes 1 to 100 characters (a name to tell the key apart), not ${trimmed === '' ? 'an empty one' : `${trimmed.length}`}`);
  return trimmed;
}

export async function createKey(options: KeyOptions & { name: string }): Promise<ExitCode> {
  const name = checkedKeyName(options.name);
  const connection = await passwordSession(options);
  const answer = await reach(connection, () => connection.client.POST('/api/v1/keys', { body: { name } }));
  if (!answer.data) throw failure('making the API key', connection, answer);
  const { key, ...made } = answer.data;
  // The key alone on stdout, so `KEY=$(masterpost keys create --name ci)` holds just the key.
  print(key);
  say(`Made API key "${made.name}" (${made.id}). It is shown this once: keep it in your secret store.`);
  say('Send it as the header X-API-Key (or Authorization: Bearer). Revoke it with: masterpost keys revoke ' + made.id);
  return ExitCode.Delivered;
}

/**
 * The key a `revoke` argument names: its id, its prefix (`mp_AbC1234`, as listed), or its name
 * when exactly one live key has it. Looked up first, so the question can name what goes.
 */
export function findKey(keys: ApiKey[], argument: string): ApiKey {
  const wanted = argument.trim().replace(/…$/, '');
  const byId = keys.find((key) => key.id === wanted.toLowerCase());
  if (byId) return byId;
  const live = keys.filter((key) => !key.revoked_at);
  const matches = wanted.startsWith('mp_') ? live.filter((key) => wanted.startsWith(key.prefix)) : live.filter((key) => key.name === wanted);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw usageError(`${matches.length} live keys are named "${wanted}": give the id of the one to revoke (see "masterpost keys list")`);
  throw usageError(`no live API key has the id, prefix or name "${wanted}" (see "masterpost keys list")`);
}

export async function revokeKey(argument: string, options: KeyOptions & { yes?: boolean }): Promise<ExitCode> {
  const connection = await passwordSession(options);
  const key = findKey(await keysOf(connection), argument);
  if (key.revoked_at) {
    print(`Key "${key.name}" (${key.prefix}…) was already revoked on ${day(key.revoked_at)}.`);
    return ExitCode.Delivered;
  }
  const stored = await storedKey();
  const mine = isThisComputers(key, stored);
  const warning = mine ? ' It is the key this computer\'s masterpost uses: run "masterpost login" again afterwards.' : '';
  if (!(await confirmDanger(`Revoke key "${key.name}" (${key.prefix}…)? Everything using it is refused at once.${warning}`, `revoke key "${key.name}"`, options.yes))) {
    say('Nothing was revoked.');
    return ExitCode.Usage;
  }
  const answer = await reach(connection, () => connection.client.DELETE('/api/v1/keys/{keyId}', { params: { path: { keyId: key.id } } }));
  if (!answer.data) throw failure(`revoking key ${key.id}`, connection, answer);
  print(`Revoked key "${answer.data.name}" (${answer.data.prefix}…): every request with it is refused from now on.`);
  if (mine) print('It was this computer\'s key: sign in again with "masterpost login".');
  return ExitCode.Delivered;
}
