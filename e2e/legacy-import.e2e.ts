import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import request from 'supertest';
import { createPool, type Pool } from '@masterpost/platform';
import { ROOT } from '../scripts/stack';
import { cleanUpAfter, runScript, startTestStack, type TestStack } from './harness';
import { changeOldDatabase, oldAccessCode, writeOldDatabase, type OldTransaction, type OldUser } from './legacy-fixture';
import { distinctPhotos } from './seller';

/**
 * Issue 19: today's sellers moved from the old Masterpost's SQLite database. The old file is
 * built here with the old schema and the rows that make a move go wrong (case-variant
 * duplicates, negative credits, an empty email, a column nobody knows, a Stripe session the old
 * app already credited) beside 5,000 ordinary sellers. Then, as an operator and a seller would:
 * a dry run, the import, the same import again, a late change, an access-code sign-in, a new
 * password, a purchase of pictures, and an old Stripe event delivered late.
 */
jest.setTimeout(600_000);

const WEBHOOK_SECRET = 'whsec_legacy_e2e';
const ORDINARY = 5000;
let stack: TestStack;
let pool: Pool;
let workDir: string;
let oldDb: string;

const awkward: OldUser[] = [
  // One seller twice, the old app having stored the address as typed: one account, 120 credits,
  // the code of the row used last.
  { email: 'Mixed.Case@Example.com', access_code: 'MP-MIXD-000A', credits: 100, last_used_at: '2024-05-01 10:00:00' },
  { email: 'mixed.case@example.com', access_code: 'MP-MIXD-000B', credits: 20, last_used_at: '2024-01-01 10:00:00' },
  { email: 'rich@example.com', access_code: 'MP-RICH-0001', credits: 250 },
  { email: 'buyer@example.com', access_code: 'MP-BUYR-0001', credits: 0 },
  { email: 'negative@example.com', access_code: 'MP-NEGA-0001', credits: -5 },
  { email: '', access_code: 'MP-EMPT-0001', credits: 40 },
  { email: 'not-an-email', access_code: 'MP-MALF-0001', credits: 7 },
  { email: '  spaced@example.com ', access_code: 'MP-SPCE-0001', credits: 15 },
  { email: 'bonus@example.com', access_code: 'MP-BONS-0001', credits: 10 },
];
const ordinary: OldUser[] = Array.from({ length: ORDINARY }, (_, index) => ({
  email: `seller${index}@shop.example`,
  access_code: oldAccessCode(index + 1),
  credits: (index % 200) + 1,
}));
const transactions: OldTransaction[] = [
  { email: 'buyer@example.com', transaction_type: 'purchase', credits_added: 100, amount_paid: 10, stripe_session_id: 'cs_live_old_buyer', created_at: '2024-02-01 09:00:00' },
  { email: 'buyer@example.com', transaction_type: 'usage', credits_added: -100, amount_paid: null, stripe_session_id: null, created_at: '2024-02-03 09:00:00' },
  { email: 'gone@example.com', transaction_type: 'purchase', credits_added: 50, amount_paid: 5, stripe_session_id: 'cs_live_gone', created_at: '2024-02-01 09:00:00' },
  ...Array.from({ length: ORDINARY / 10 }, (_, index) => ({
    email: `seller${index * 10}@shop.example`, transaction_type: 'purchase', credits_added: 50, amount_paid: 5, stripe_session_id: `cs_live_${index}`,
  })),
];
const sourceCredits = [...awkward, ...ordinary].reduce((sum, user) => sum + Number(user.credits), 0);
// Skipped: negative (-5), empty email (40), malformed (7), an unknown column's data (10).
const skippedCredits = -5 + 40 + 7 + 10;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'mp-legacy-'));
  oldDb = path.join(workDir, 'masterpost.db');
  await writeOldDatabase(oldDb, {
    users: [...awkward, ...ordinary],
    transactions,
    jobs: 3,
    // A column added to the old database by hand: a row with data in it cannot be read safely.
    afterSql: "alter table users add column referral_bonus integer; update users set referral_bonus = 25 where email = 'bonus@example.com';",
  });
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '10', STRIPE_SECRET_KEY: 'sk_test_not_called_here', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, RATE_LIMIT_AUTH_PER_MINUTE: '30' } });
  pool = createPool(stack.databaseUrl);
});
cleanUpAfter(() => stack);
afterAll(async () => {
  await pool?.end();
  rmSync(workDir, { recursive: true, force: true });
});

function importLegacy(...args: string[]): Promise<{ code: number; output: string }> {
  return runScript('scripts/import-legacy.ts', ['--sqlite', oldDb, ...args], { DATABASE_URL: stack.databaseUrl });
}

/** A number the report prints after `label: `. */
function reported(output: string, label: string): number {
  const match = new RegExp(`^${label}: (-?\\d+)`, 'm').exec(output);
  if (!match) throw new Error(`the report has no "${label}" line:\n${output}`);
  return Number(match[1]);
}

/** Everything the import could write, summed: equal before and after means nothing was written. */
async function databaseState(): Promise<Record<string, string>> {
  const { rows } = await pool.query<Record<string, string>>(`select
    (select count(*) from users) as users,
    (select count(*) from credit_movements) as movements,
    (select coalesce(sum(delta), 0) from credit_movements) as credits,
    (select coalesce(sum(balance), 0) from credit_accounts) as balances,
    (select count(*) from legacy_sellers) as legacy_sellers,
    (select coalesce(max(updated_at)::text, '') from legacy_sellers) as last_update,
    (select count(*) from legacy_stripe_ids) as stripe_ids`);
  return rows[0]!;
}

const api = () => request(stack.gatewayUrl);

test('a dry run prints the whole report and writes nothing', async () => {
  const before = await databaseState();
  const run = await importLegacy('--dry-run');
  expect(run.code).toBe(0);
  expect(run.output).toContain('DRY RUN: nothing was written');
  expect(reported(run.output, 'sellers imported')).toBe(ORDINARY + 4);
  expect(reported(run.output, 'credits granted')).toBe(sourceCredits - skippedCredits);
  expect(await databaseState()).toEqual(before);
  expect(before.users).toBe('0');
});

test('the import: every seller with their credits, the awkward rows merged or skipped with reasons, and the credits accounted for', async () => {
  const run = await importLegacy();
  expect({ code: run.code, output: run.output }).toEqual({ code: 0, output: expect.any(String) });
  expect(reported(run.output, 'sellers read')).toBe(ORDINARY + awkward.length);
  expect(reported(run.output, 'sellers imported')).toBe(ORDINARY + 4);
  expect(reported(run.output, 'sellers merged')).toBe(2);
  expect(run.output).toMatch(/mixed\.case@example\.com: Mixed\.Case@Example\.com, mixed\.case@example\.com/);
  expect(reported(run.output, 'sellers skipped')).toBe(4);
  expect(run.output).toMatch(/"negative@example\.com": negative credits \(-5\)/);
  expect(run.output).toMatch(/users row \d+ "": no email/);
  expect(run.output).toMatch(/"not-an-email": malformed email/);
  expect(run.output).toMatch(/"bonus@example\.com": unknown column\(s\) holding data: referral_bonus = 25/);
  expect(run.output).toMatch(/transactions row 3 \(gone@example\.com\): no seller row with this owner/);
  expect(reported(run.output, 'credits in the source')).toBe(sourceCredits);
  expect(reported(run.output, 'credits granted')).toBe(sourceCredits - skippedCredits);
  expect(reported(run.output, 'difference')).toBe(skippedCredits);
  expect(run.output).toContain('accounted for: every credit of the source is granted or explained above');

  // What the sellers have, in the ledger: the old column, not the sum of old transactions.
  const { rows } = await pool.query<{ email: string; balance: string }>(
    `select u.email, coalesce(a.balance, 0) as balance from users u left join credit_accounts a on a.user_id = u.id
     where u.email in ('mixed.case@example.com', 'rich@example.com', 'buyer@example.com', 'spaced@example.com', 'seller7@shop.example') order by u.email`);
  expect(rows).toEqual([
    { email: 'buyer@example.com', balance: '0' },
    { email: 'mixed.case@example.com', balance: '120' },
    { email: 'rich@example.com', balance: '250' },
    { email: 'seller7@shop.example', balance: '8' },
    { email: 'spaced@example.com', balance: '15' },
  ]);
  const { rows: total } = await pool.query<{ users: string; credits: string }>('select (select count(*) from users) as users, (select sum(balance) from credit_accounts) as credits');
  expect(total[0]).toEqual({ users: String(ORDINARY + 4), credits: String(sourceCredits - skippedCredits) });
  const { rows: none } = await pool.query('select email from users where email in ($1, $2, $3)', ['negative@example.com', 'not-an-email', 'bonus@example.com']);
  expect(none).toEqual([]);
});

test('the same import again changes nothing', async () => {
  const before = await databaseState();
  const run = await importLegacy();
  expect(run.code).toBe(0);
  expect(reported(run.output, 'sellers imported')).toBe(0);
  expect(reported(run.output, 'sellers unchanged')).toBe(ORDINARY + 4);
  expect(run.output).toContain(`credits granted: ${sourceCredits - skippedCredits} (0 by this run)`);
  expect(await databaseState()).toEqual(before);
});

test('a late purchase in the old app before the switch is brought across by a re-run, once', async () => {
  await changeOldDatabase(oldDb, `update users set credits = credits + 100 where email = 'rich@example.com';
    insert into transactions (email, transaction_type, credits_added, amount_paid, stripe_session_id) values ('rich@example.com', 'purchase', 100, 10, 'cs_live_late_rich');`);
  const run = await importLegacy();
  expect(reported(run.output, 'sellers updated')).toBe(1);
  expect(run.output).toContain(`credits granted: ${sourceCredits - skippedCredits + 100} (100 by this run)`);
  const again = await importLegacy();
  expect(again.output).toContain('(0 by this run)');
  const { rows } = await pool.query<{ balance: string }>(`select a.balance from credit_accounts a join users u on u.id = a.user_id where u.email = 'rich@example.com'`);
  expect(rows[0]!.balance).toBe('350');
});

test('a moved seller signs in with the access code, sees the old history, chooses a password, and the code stops working', async () => {
  // The code of the row used last; the other row's code no longer signs in, nor does a password.
  await api().post('/auth/login').send({ email: 'mixed.case@example.com', access_code: 'MP-MIXD-000B' }).expect(401);
  await api().post('/auth/login').send({ email: 'mixed.case@example.com', password: 'any password at all' }).expect(401);
  const wrongEmail = await api().post('/auth/login').send({ email: 'nobody@example.com', access_code: 'MP-MIXD-000A' }).expect(401);
  const wrongCode = await api().post('/auth/login').send({ email: 'mixed.case@example.com', access_code: 'MP-MIXD-0000' }).expect(401);
  expect(wrongCode.body.error).toEqual(wrongEmail.body.error);

  // As the old app printed it, or typed in lower case.
  const first = await api().post('/auth/login').send({ email: 'Mixed.Case@Example.com', access_code: ' mp-mixd-000a ' }).expect(200);
  expect(first.body).toMatchObject({ user: { email: 'mixed.case@example.com' }, password_required: true, credits: { available: 120 } });
  const codeToken = first.body.access_token as string;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  const me = await api().get('/auth/me').set(auth(codeToken)).expect(200);
  expect(me.body).toMatchObject({ has_password: false, credits: { balance: 120 } });

  // A password of an account that has none needs no current one; a too-short one is refused.
  await api().post('/auth/password').set(auth(codeToken)).send({ new_password: 'short' }).expect(400);
  const chosen = await api().post('/auth/password').set(auth(codeToken)).send({ new_password: 'a new good password' }).expect(200);
  expect(chosen.body.password_required).not.toBe(true);
  const token = chosen.body.access_token as string;

  // The code's session has ended, and the code itself is gone; the password works.
  await api().get('/credits/balance').set(auth(codeToken)).expect(401);
  await api().post('/auth/login').send({ email: 'mixed.case@example.com', access_code: 'MP-MIXD-000A' }).expect(401);
  await api().post('/auth/login').send({ email: 'mixed.case@example.com', password: 'a new good password' }).expect(200);
  expect((await api().get('/auth/me').set(auth(token)).expect(200)).body).toMatchObject({ has_password: true });

  // Changing it again asks for the current one.
  await api().post('/auth/password').set(auth(token)).send({ new_password: 'another good password' }).expect(400);
  await api().post('/auth/password').set(auth(token)).send({ current_password: 'wrong password', new_password: 'another good password' }).expect(401);

  // Spending: one picture, 3 credits, from the moved balance.
  const upload = await api().post('/api/v1/upload').set(auth(token)).attach('files', (await distinctPhotos(1, 9100))[0]!, 'old-seller.jpg').expect(201);
  await api().post('/api/v1/process').set(auth(token)).send({ job_id: upload.body.job_id, pipeline: 'amazon' }).expect(202);
  for (const deadline = Date.now() + 90_000; ; ) {
    const progress = await api().get(`/api/v1/progress/${upload.body.job_id as string}`).set(auth(token)).expect(200);
    if (progress.body.finished) {
      expect(progress.body).toMatchObject({ completed: 1, credits_charged: 3 });
      break;
    }
    if (Date.now() > deadline) throw new Error('the moved seller\'s job did not finish');
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  expect((await api().get('/credits/balance').set(auth(token)).expect(200)).body).toEqual({ balance: 117, reserved: 0, available: 117 });
});

test('the history shows the old purchases, which move nothing, under the credits brought over', async () => {
  const login = await api().post('/auth/login').send({ email: 'buyer@example.com', access_code: 'MP-BUYR-0001' }).expect(200);
  expect(login.body).toMatchObject({ password_required: true, credits: { balance: 0 } });
  const history = await api().get('/credits/history').set('authorization', `Bearer ${login.body.access_token as string}`).expect(200);
  expect(history.body.items).toEqual([
    expect.objectContaining({ kind: 'legacy', delta: 0, description: 'Before the move: usage, -100 credits (already in the credits brought over)', created_at: '2024-02-03T09:00:00.000Z' }),
    expect.objectContaining({ kind: 'legacy', delta: 0, description: 'Before the move: purchase, +100 credits, paid 10 (already in the credits brought over)', created_at: '2024-02-01T09:00:00.000Z' }),
  ]);
  const rich = await api().post('/auth/login').send({ email: 'rich@example.com', access_code: 'MP-RICH-0001' }).expect(200);
  const richHistory = await api().get('/credits/history').set('authorization', `Bearer ${rich.body.access_token as string}`).expect(200);
  expect(richHistory.body.items.map((item: { kind: string; delta: number }) => [item.kind, item.delta])).toEqual([['migration', 100], ['legacy', 0], ['migration', 250]]);
});

test('a late redelivery of an old Stripe payment grants nothing; a new payment still does', async () => {
  const login = await api().post('/auth/login').send({ email: 'buyer@example.com', access_code: 'MP-BUYR-0001' }).expect(200);
  const userId = login.body.user.id as string;
  const token = login.body.access_token as string;
  const stripe = new Stripe('sk_test_unused');
  const deliver = async (eventId: string, sessionId: string, paymentIntent: string) => {
    const body = JSON.stringify({
      id: eventId, object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000), livemode: true,
      data: { object: { id: sessionId, object: 'checkout.session', payment_status: 'paid', amount_total: 1000, payment_intent: paymentIntent, metadata: { user_id: userId, pack_id: 'pro' } } },
    });
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
    return (await api().post('/payments/webhook').set('content-type', 'application/json').set('stripe-signature', header).send(body).expect(200)).body as { outcome?: string };
  };
  // The old app credited this session: even carrying our metadata, its event grants nothing.
  expect(await deliver('evt_old_1', 'cs_live_old_buyer', 'pi_old_buyer')).toMatchObject({ outcome: 'ignored' });
  expect(await deliver('evt_old_2', 'cs_live_old_buyer', 'pi_old_buyer')).toMatchObject({ outcome: 'ignored' });
  expect((await api().get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200)).body).toEqual({ balance: 0, reserved: 0, available: 0 });
  // The same seller's new purchase is credited, once.
  expect(await deliver('evt_new_1', 'cs_live_new_buyer', 'pi_new_buyer')).toMatchObject({ outcome: 'granted' });
  expect(await deliver('evt_new_1', 'cs_live_new_buyer', 'pi_new_buyer')).toMatchObject({ outcome: 'duplicate' });
  expect((await api().get('/credits/balance').set('authorization', `Bearer ${token}`).expect(200)).body).toEqual({ balance: 100, reserved: 0, available: 100 });
});

/** The CLI as a seller's script runs it: no terminal, its own config folder. */
function cli(configDir: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MASTERPOST_CONFIG_DIR: configDir, MASTERPOST_URL: stack.gatewayUrl, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('masterpost login --access-code: the moved seller chooses a password in the same run, and the CLI works with their credits', async () => {
  const configDir = mkdtempSync(path.join(workDir, 'cli-'));
  const email = 'seller41@shop.example';
  const code = oldAccessCode(42);
  // Without a terminal and without a new password, nothing is stored and the code still works.
  const refused = await cli(configDir, ['login', '--email', email, '--access-code'], { MASTERPOST_ACCESS_CODE: code });
  expect(refused.code).toBe(2);
  expect(refused.output).toContain('this account needs a password before it can be used: set $MASTERPOST_NEW_PASSWORD');

  const signedIn = await cli(configDir, ['login', '--email', email, '--access-code'], { MASTERPOST_ACCESS_CODE: code, MASTERPOST_NEW_PASSWORD: 'my new cli password' });
  expect(signedIn.output).toContain('Password set');
  expect(signedIn.output).toContain('42 credits available');
  expect(signedIn.code).toBe(0);
  expect(await cli(configDir, ['balance'], {})).toMatchObject({ code: 0, output: expect.stringContaining('42') });

  const codeAgain = await cli(mkdtempSync(path.join(workDir, 'cli-')), ['login', '--email', email, '--access-code'], { MASTERPOST_ACCESS_CODE: code, MASTERPOST_NEW_PASSWORD: 'x'.repeat(10) });
  expect(codeAgain.code).toBe(2);
  expect(codeAgain.output).toContain('wrong email or access code, or the code was already replaced by a password');
  expect(await cli(mkdtempSync(path.join(workDir, 'cli-')), ['login', '--email', email], { MASTERPOST_PASSWORD: 'my new cli password' })).toMatchObject({ code: 0 });
});

test('access-code attempts count against the same sign-in limit as passwords', async () => {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 31; attempt++) {
    statuses.push((await api().post('/auth/login').send({ email: 'seller1@shop.example', access_code: `MP-WRNG-${String(attempt).padStart(4, '0')}` })).status);
    if (statuses.at(-1) === 429) break;
  }
  expect(statuses.at(-1)).toBe(429);
  expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
});
