import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createPool, createSupabaseClient, type Pool } from '@masterpost/platform';
import { dropDatabase, ensureDatabase, migrate } from '../db/migrate';
import { prepareAsSupabase } from '../tools/supabase-sim/src/roles';
import { startSupabaseStandIn, type SupabaseStandIn } from '../tools/supabase-sim/src/server';
import { runScript } from './harness';

/**
 * Issue 19, the Supabase side: the old Supabase variant's sellers (`user_credits`,
 * `transactions`, emails in `auth.users`) imported with `--postgres`, keeping their user ids,
 * and the RPCs its tools call (`get_user_credits`, `use_credits`, `add_credits`) answering as
 * before, over the ledger, through supabase-js against the Supabase stand-in.
 */
jest.setTimeout(120_000);

const SERVICE_KEY = 'legacy-rpc-service-key';
const ANON_KEY = 'legacy-rpc-anon-key';
const base = process.env.TEST_DATABASE_BASE ?? 'postgres://postgres@127.0.0.1:5432';
const id = randomBytes(4).toString('hex');
const targetUrl = `${base}/mp_test_rpc_${id}`;
const oldUrl = `${base}/mp_test_oldsb_${id}`;
const alice = randomUUID();
const bob = randomUUID();
let pool: Pool;
let supabase: SupabaseStandIn;
let client: ReturnType<typeof createSupabaseClient>;

async function buildOldSupabaseProject(): Promise<void> {
  await ensureDatabase(oldUrl);
  const old = new Client({ connectionString: oldUrl });
  await old.connect();
  try {
    await old.query(`
      create schema auth;
      create table auth.users (id uuid primary key, email text);
      create table public.user_credits (id bigserial primary key, user_id uuid unique references auth.users (id), credits integer not null check (credits >= 0),
        created_at timestamptz default now(), updated_at timestamptz default now());
      create table public.transactions (id uuid primary key default gen_random_uuid(), user_id uuid references auth.users (id), type text, credits_change integer,
        credits_after integer, description text, stripe_payment_intent_id text, created_at timestamptz default now());`);
    await old.query('insert into auth.users (id, email) values ($1, $2), ($3, $4)', [alice, 'Alice@Example.com', bob, 'bob@example.com']);
    await old.query('insert into public.user_credits (user_id, credits) values ($1, 80), ($2, 5)', [alice, bob]);
    await old.query(`insert into public.transactions (user_id, type, credits_change, credits_after, description, stripe_payment_intent_id, created_at) values
      ($1, 'purchase', 100, 100, 'Pro pack', 'pi_old_alice', '2024-04-01T10:00:00Z'),
      ($1, 'usage', -20, 80, 'Processed 5 images', null, '2024-04-02T10:00:00Z')`, [alice]);
  } finally {
    await old.end();
  }
}

beforeAll(async () => {
  await prepareAsSupabase(targetUrl);
  await migrate(targetUrl);
  await buildOldSupabaseProject();
  pool = createPool(targetUrl);
  supabase = await startSupabaseStandIn({ serviceKey: SERVICE_KEY, anonKey: ANON_KEY, pool });
  client = createSupabaseClient(supabase.url, SERVICE_KEY);
});
afterAll(async () => {
  await pool?.end();
  await supabase?.close();
  await dropDatabase(targetUrl).catch(() => undefined);
  await dropDatabase(oldUrl).catch(() => undefined);
});

async function rpc(name: string, args: Record<string, unknown>): Promise<unknown> {
  const { data, error } = await client.rpc(name, args);
  if (error) throw new Error(`${name}: ${error.code} ${error.message}`);
  return data;
}

test('the Supabase variant\'s sellers are imported with their ids, credits and payments, once', async () => {
  const run = await runScript('scripts/import-legacy.ts', ['--postgres', oldUrl], { DATABASE_URL: targetUrl });
  expect(run.output).toContain('sellers imported: 2 new accounts');
  expect(run.output).toContain('credits granted: 85 (85 by this run)');
  expect(run.code).toBe(0);
  const again = await runScript('scripts/import-legacy.ts', ['--postgres', oldUrl], { DATABASE_URL: targetUrl });
  expect(again.output).toContain('sellers unchanged: 2');
  expect(again.output).toContain('credits granted: 85 (0 by this run)');
  const { rows } = await pool.query<{ id: string; email: string }>('select id, email from users order by email');
  expect(rows).toEqual([{ id: alice, email: 'alice@example.com' }, { id: bob, email: 'bob@example.com' }]);
  // The old tools' user ids still name the same sellers.
  expect(await rpc('get_user_credits', { p_user_id: alice })).toBe(80);
  expect(await rpc('get_user_credits', { p_user_id: bob })).toBe(5);
  expect(await rpc('get_user_credits', { p_user_id: randomUUID() })).toBe(0);
});

test('use_credits charges once per piece of work and answers as the old function did', async () => {
  const charge = { p_user_id: alice, p_credits_needed: 30, p_transaction_type: 'usage', p_description: 'Processed 10 images (job 42)' };
  expect(await rpc('use_credits', charge)).toEqual({ success: true, credits_used: 30, credits_remaining: 50 });
  // The tool retried: the same work is not charged again, and is told what was charged.
  expect(await rpc('use_credits', charge)).toEqual({ success: true, credits_used: 30, credits_remaining: 50 });
  expect(await rpc('get_user_credits', { p_user_id: alice })).toBe(50);
  // Other work is another charge; an explicit key separates two pieces of work described alike.
  expect(await rpc('use_credits', { ...charge, p_description: 'Processed 2 images (job 43)', p_credits_needed: 6 })).toEqual({ success: true, credits_used: 6, credits_remaining: 44 });
  expect(await rpc('use_credits', { ...charge, p_credits_needed: 4, p_idempotency_key: 'run-7' })).toEqual({ success: true, credits_used: 4, credits_remaining: 40 });
  expect(await rpc('use_credits', { ...charge, p_credits_needed: 4, p_idempotency_key: 'run-7' })).toEqual({ success: true, credits_used: 4, credits_remaining: 40 });
  // Too little: the old insufficient-credits answer, nothing taken.
  expect(await rpc('use_credits', { ...charge, p_description: 'Processed 100 images (job 44)', p_credits_needed: 300 })).toEqual({
    success: false, error: 'Insufficient credits', current_credits: 40, needed: 300,
  });
  expect(await rpc('get_user_credits', { p_user_id: alice })).toBe(40);
  const bad = await client.rpc('use_credits', { ...charge, p_credits_needed: 0 });
  expect(bad.error?.message).toMatch(/p_credits_needed must be a positive whole number/);
});

test('add_credits grants a payment once, and nothing for a payment the old app already credited', async () => {
  const grant = { p_user_id: bob, p_credits_amount: 100, p_description: 'Pro pack', p_stripe_payment_intent_id: 'pi_new_bob' };
  expect(await rpc('add_credits', grant)).toEqual({ success: true, credits_added: 100, credits_total: 105 });
  expect(await rpc('add_credits', grant)).toMatchObject({ success: true, credits_added: 0, credits_total: 105 });
  expect(await rpc('add_credits', { ...grant, p_user_id: alice, p_stripe_payment_intent_id: 'pi_old_alice' })).toMatchObject({ success: true, credits_added: 0, credits_total: 40 });
  expect(await rpc('get_user_credits', { p_user_id: bob })).toBe(105);
  expect(await rpc('get_user_credits', { p_user_id: alice })).toBe(40);
  const missing = await client.rpc('add_credits', { ...grant, p_stripe_payment_intent_id: null });
  expect(missing.error?.message).toMatch(/p_stripe_payment_intent_id is required/);
  // Credits for an id no account has would be lost: refused, and the payment stays ungranted.
  const nobody = await client.rpc('add_credits', { ...grant, p_user_id: randomUUID(), p_stripe_payment_intent_id: 'pi_for_nobody' });
  expect(nobody.error?.message).toMatch(/no account has the id/);
  // A Checkout event for a payment add_credits granted does not move it to another seller, and a
  // refund of it (its amount unknown here) takes all its credits back from the one who got them.
  await pool.query("select stripe_apply_checkout('evt_moved', 'checkout.session.completed', 'pi_new_bob', 'cs_moved', $1, 'pro', 100, 1000, true, false, 'Bought Pro')", [alice]);
  expect(await rpc('get_user_credits', { p_user_id: alice })).toBe(40);
  await pool.query("select stripe_apply_refund('evt_refund_bob', 'charge.refunded', 'pi_new_bob', 1000)");
  expect(await rpc('get_user_credits', { p_user_id: bob })).toBe(5);
  expect(await rpc('get_user_credits', { p_user_id: alice })).toBe(40);
  // A refund of a payment the old app took is left to an operator, not silently dropped.
  expect((await pool.query("select stripe_apply_refund('evt_refund_old', 'charge.refunded', 'pi_old_alice', 500) as outcome")).rows[0].outcome).toBe('legacy');
  // Every movement is in the ledger the product reads: the balance is the sum of its movements.
  const { rows } = await pool.query<{ user_id: string; sum: string; balance: string }>(
    `select m.user_id, sum(m.delta)::text as sum, a.balance::text as balance from credit_movements m join credit_accounts a on a.user_id = m.user_id group by m.user_id, a.balance`);
  for (const row of rows) expect(row.sum).toBe(row.balance);
});

test('the public anon key reaches none of them', async () => {
  const response = await fetch(`${supabase.url}/rest/v1/rpc/add_credits`, {
    method: 'POST',
    headers: { apikey: ANON_KEY, authorization: `Bearer ${ANON_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ p_user_id: bob, p_credits_amount: 1000, p_description: 'free', p_stripe_payment_intent_id: 'pi_anon' }),
  });
  expect(response.status).toBe(401);
  const calls: Array<[string, Record<string, unknown>]> = [
    ['get_user_credits', { p_user_id: bob }],
    ['use_credits', { p_user_id: bob, p_credits_needed: 1, p_transaction_type: 'usage', p_description: 'anon' }],
  ];
  for (const [name, args] of calls) {
    const answer = await fetch(`${supabase.url}/rest/v1/rpc/${name}`, { method: 'POST', headers: { apikey: ANON_KEY, authorization: `Bearer ${ANON_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(args) });
    expect({ name, status: answer.status }).toEqual({ name, status: 401 });
  }
  // What the test before left (its refunded pack taken back), untouched by the anon calls.
  expect(await rpc('get_user_credits', { p_user_id: bob })).toBe(5);
});
