import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Schemas } from '@masterpost/client';
import AdmZip from 'adm-zip';
import { configFile, readConfig } from '../config-store';
import { ExitCode, usageError } from '../exit-codes';
import { failure, reach, signedIn, type Connection } from '../gateway';
import { plural, print, say } from '../output';
import { chosenPassword, currentPassword } from '../password-input';
import { ask, canAsk } from '../prompt';
import { formatBytes } from '../progress';
import { passwordSession } from '../session';

/**
 * `masterpost account ...`: the account as the web page's account screen keeps it: what it is
 * (address, proof of it, mails, password, credits), mails about pictures, a new password, the
 * seller's data as a ZIP, and leaving. Signed in with the stored key, except the password change,
 * which the gateway takes from a signed-in session only (so the current password is asked).
 */
type Me = Schemas['Me'];


interface UrlOption {
  url?: string;
}

async function me(connection: Connection): Promise<Me> {
  const answer = await reach(connection, () => connection.client.GET('/auth/me'));
  if (!answer.data) throw failure('reading your account', connection, answer);
  return answer.data;
}

export function accountLines(account: Me, url: string): string[] {
  const { credits } = account;
  const lines = [`${account.email} at ${url}`];
  lines.push(
    account.email_verified
      ? '  address: verified'
      : '  address: NOT verified: nothing can be spent until you follow the link we mailed (masterpost account verify <link>; masterpost account resend-verification sends a new one)',
  );
  if (account.pending_email) lines.push(`  new address waiting for its link: ${account.pending_email} (masterpost account confirm-email <link>)`);
  lines.push(`  credits: ${credits.available} available (balance ${credits.balance}, ${credits.reserved} reserved)${credits.owed ? `, ${credits.owed} owed` : ''}`);
  lines.push(`  mail me when my pictures are ready: ${account.notify_pictures_ready ? 'on' : 'off'}`);
  lines.push(`  password: ${account.has_password ? 'set' : 'not chosen yet (masterpost login --email <you> --access-code)'}`);
  return lines;
}

export async function showAccount(options: UrlOption): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  for (const line of accountLines(await me(connection), connection.url)) print(line);
  return ExitCode.Delivered;
}

export function switchIn(value: string): boolean {
  const word = value.trim().toLowerCase();
  if (['on', 'yes', 'true'].includes(word)) return true;
  if (['off', 'no', 'false'].includes(word)) return false;
  throw usageError(`say "on" or "off", not "${value}"`);
}

export async function setNotifications(value: string, options: UrlOption): Promise<ExitCode> {
  const on = switchIn(value);
  const connection = await signedIn(options.url);
  const answer = await reach(connection, () => connection.client.POST('/auth/preferences', { body: { notify_pictures_ready: on } }));
  if (!answer.data) throw failure('changing your mail preferences', connection, answer);
  print(answer.data.notify_pictures_ready ? `A mail goes to ${answer.data.email} when a job's pictures are ready.` : 'No mail is sent when pictures are ready.');
  return ExitCode.Delivered;
}

export async function changePassword(options: UrlOption & { email?: string }): Promise<ExitCode> {
  const current = await currentPassword('Current password: ');
  const session = await passwordSession({ ...options, password: current });
  const next = await chosenPassword();
  if (next === current) throw usageError('the new password is the current one; nothing was changed');
  const answer = await reach(session, () => session.client.POST('/auth/password', { body: { current_password: current, new_password: next } }));
  if (!answer.data) throw failure('changing the password', session, answer);
  print(`Password changed for ${answer.data.user.email}: other signed-in sessions (the web page's) are signed out; API keys keep working.`);
  return ExitCode.Delivered;
}

/** `masterpost-data-....zip` as the gateway names it, but only ever a plain file name in the current folder. */
function exportName(disposition: string | null): string {
  const named = /filename="?([^";]+)"?/i.exec(disposition ?? '')?.[1];
  const safe = named ? path.basename(named) : '';
  return safe && safe !== '.' && safe !== '..' ? safe : `masterpost-data-${new Date().toISOString().slice(0, 10)}.zip`;
}

/** What the ZIP holds, read back from it, so the seller sees their data came (and a broken file is caught). */
export function exportSummary(file: string): string {
  const zip = new AdmZip(file);
  const json = (name: string): unknown => {
    const entry = zip.getEntry(name);
    return entry ? (JSON.parse(entry.getData().toString('utf8')) as unknown) : undefined;
  };
  const account = json('account.json') as { email?: string } | undefined;
  const jobs = json('jobs.json');
  const ledger = json('ledger.json');
  const files = zip.getEntries().filter((entry) => !entry.isDirectory && /^(photos|pictures)\//.test(entry.entryName)).length;
  const length = (value: unknown) => (Array.isArray(value) ? value.length : 0);
  return `${account?.email ?? 'the account'}: ${plural(length(jobs), 'job')}, ${plural(length(ledger), 'credit movement')}, ${plural(files, 'photo or picture', 'photos and pictures')}`;
}

export async function exportAccount(options: UrlOption & { out?: string }): Promise<ExitCode> {
  if (options.out && (await stat(options.out).catch(() => null))?.isDirectory()) throw usageError(`--out ${options.out} is a folder: give the file to write, e.g. ${path.join(options.out, 'masterpost-data.zip')}`);
  const connection = await signedIn(options.url);
  say('Gathering your data (account, jobs, credit history, keys and webhooks, photos and pictures still kept)...');
  const answer = await reach(connection, () => connection.client.GET('/auth/account/export', { parseAs: 'stream' }));
  if (!answer.data || !answer.response.ok) throw failure('exporting your data', connection, answer);
  const out = path.resolve(options.out ?? exportName(answer.response.headers.get('content-disposition')));
  // Written beside, then renamed: a cut-off download never leaves a half ZIP under the name asked for.
  const partial = `${out}.${process.pid}.part`;
  try {
    await pipeline(Readable.fromWeb(answer.data as WebReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  print(`Your data is in ${out} (${formatBytes((await stat(out)).size)}): ${exportSummary(out)}.`);
  return ExitCode.Delivered;
}

const DELETE_WORDS = 'delete my account';

export async function deleteAccount(options: UrlOption & { yes?: boolean }): Promise<ExitCode> {
  const connection = await signedIn(options.url);
  const account = await me(connection);
  // Said before anything is asked, as the web page does: what is given up cannot be bought back.
  say(`Deleting the account ${account.email} gives up its ${plural(account.credits.balance, 'credit')}, deletes every job's photos and pictures at once, and removes its API keys and webhooks. The credit history is kept, without your name. It cannot be undone.`);
  if (!options.yes) {
    if (!canAsk()) throw usageError('there is no terminal to confirm in: pass --yes to delete the account without being asked');
    if ((await ask(`Type "${DELETE_WORDS}" to go ahead: `)).toLowerCase() !== DELETE_WORDS) {
      say('Nothing was deleted.');
      return ExitCode.Usage;
    }
  }
  const password = account.has_password ? await currentPassword(`Password for ${account.email}: `) : undefined;
  const answer = await reach(connection, () =>
    connection.client.DELETE('/auth/account', { body: { confirm: DELETE_WORDS, ...(password !== undefined ? { password } : {}) } }),
  );
  if (!answer.data) throw failure('deleting the account', connection, answer);
  print(`Deleted the account ${account.email}: ${plural(answer.data.forfeited_credits, 'credit')} given up, ${plural(answer.data.jobs_deleted, 'job')} deleted, files and all.`);
  // The stored key died with the account: leaving it would only make the next command fail oddly.
  const stored = await readConfig();
  if (!process.env.MASTERPOST_API_KEY && stored) {
    await rm(configFile(), { force: true });
    print(`Its key was removed from ${configFile()}.`);
  }
  return ExitCode.Delivered;
}
