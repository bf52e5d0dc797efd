import { randomBytes, randomUUID } from 'node:crypto';
import { createPool, type Pool } from '@masterpost/platform';
import { dropDatabase, ensureDatabase, migrate } from '../../../db/migrate';
import { LedgerStore } from '../src/ledger/ledger.repository';
import { createSupabaseClient } from '@masterpost/platform';
import { PgFunctions, SupabaseFunctions } from '../src/ledger/sql-functions';
import { prepareAsSupabase } from '../../../tools/supabase-sim/src/roles';
import { startPostgrestStandIn } from '../../../tools/supabase-sim/src/server';

/**
 * The ledger's SQL functions on a real Postgres: races, repeats and expiry, reached both ways
 * billing can reach them: a Postgres connection, and Supabase's rpc (supabase-js against a
 * PostgREST stand-in that runs the same functions in the same database).
 */
const databaseUrl = `postgres://postgres@127.0.0.1:5432/mp_ledger_${randomBytes(4).toString('hex')}`;
const SERVICE_KEY = 'service-role-key-for-tests';
let pool: Pool;
let postgrest: Awaited<ReturnType<typeof startPostgrestStandIn>>;
const transports: Record<'postgres' | 'supabase', LedgerStore | undefined> = { postgres: undefined, supabase: undefined };

beforeAll(async () => {
  await ensureDatabase(databaseUrl);
  // Set up as a Supabase project is (the stand-in answers the service key as service_role).
  await prepareAsSupabase(databaseUrl);
  await migrate(databaseUrl);
  pool = createPool(databaseUrl, { max: 25 });
  postgrest = await startPostgrestStandIn(pool, SERVICE_KEY);
  transports.postgres = new LedgerStore(new PgFunctions(pool));
  transports.supabase = new LedgerStore(new SupabaseFunctions(createSupabaseClient(postgrest.url, SERVICE_KEY)));
});

afterAll(async () => {
  await postgrest.close();
  await pool.end();
  await dropDatabase(databaseUrl);
});

test('the Supabase path really goes through rpc', async () => {
  const before = postgrest.calls.length;
  await transports.supabase!.account(randomUUID());
  expect(postgrest.calls.slice(before)).toEqual(['ledger_account']);
});

describe.each(['postgres', 'supabase'] as const)('through %s', (transport) => {
let ledger: LedgerStore;
beforeAll(() => {
  ledger = transports[transport]!;
});

test('twenty concurrent holds of 3 against 10 available: exactly three succeed, available never negative', async () => {
  const user = randomUUID();
  await ledger.grant(user, 10, 'signup', `signup:${user}`, 'trial');
  const results = await Promise.all(Array.from({ length: 20 }, (_, index) => ledger.hold(user, 3, `job:${user}:${index}`, 3600, 'race')));
  expect(results.filter((result) => result.status === 'held')).toHaveLength(3);
  expect(results.filter((result) => result.status === 'insufficient')).toHaveLength(17);
  expect(await ledger.account(user)).toEqual({ balance: 10, reserved: 9, available: 1 });
});

test('the database itself refuses a negative available balance', async () => {
  const user = randomUUID();
  await ledger.grant(user, 5, 'signup', `signup:${user}`, 'trial');
  await expect(pool.query('update credit_accounts set reserved = 6 where user_id = $1', [user])).rejects.toThrow(/available_not_negative/);
});

test('a grant, a hold and each settlement apply once however often they are repeated', async () => {
  const user = randomUUID();
  const grants = await Promise.all(Array.from({ length: 5 }, () => ledger.grant(user, 10, 'purchase', `stripe:session:${user}`, 'pack')));
  expect(grants.filter((grant) => grant.applied)).toHaveLength(1);
  await ledger.hold(user, 9, `job:${user}`, 3600, 'job');
  expect((await ledger.hold(user, 9, `job:${user}`, 3600, 'job')).status).toBe('duplicate');

  const captures = await Promise.all(Array.from({ length: 4 }, () => ledger.settle(`job:${user}`, 'capture', 3, `image:a-${user}`, 'picture')));
  expect(captures.filter((capture) => capture.status === 'applied')).toHaveLength(1);
  // The same image released after it was charged: nothing happens, it was settled already.
  expect((await ledger.settle(`job:${user}`, 'release', 3, `image:a-${user}`, 'picture')).status).toBe('duplicate');
  expect((await ledger.settle(`job:${user}`, 'release', 3, `image:b-${user}`, 'picture')).status).toBe('applied');
  expect((await ledger.settle(`job:${user}`, 'release', null, `close:${user}`, 'close')).amount).toBe(3);
  expect(await ledger.account(user)).toEqual({ balance: 7, reserved: 0, available: 7 });
  expect((await ledger.settle(`job:${user}`, 'capture', 3, `image:c-${user}`, 'late')).status).toBe('hold_closed');

  const history = await ledger.history(user, 10);
  expect(history.map((item) => [item.kind, item.delta])).toEqual([
    ['capture', -3],
    ['purchase', 10],
  ]);
});

test('an expired hold is released by the sweeper once', async () => {
  const user = randomUUID();
  await ledger.grant(user, 9, 'signup', `signup:${user}`, 'trial');
  await ledger.hold(user, 6, `job:${user}`, 1, 'job that vanished');
  await pool.query(`update credit_holds set expires_at = now() - interval '1 second' where reference = $1`, [`job:${user}`]);
  const [first, second] = await Promise.all([ledger.expireHolds(), ledger.expireHolds()]);
  const released = [...first!, ...second!].filter((item) => item.reference === `job:${user}`);
  expect(released).toEqual([{ reference: `job:${user}`, released: 6 }]);
  expect(await ledger.account(user)).toEqual({ balance: 9, reserved: 0, available: 9 });
  // A picture delivered after its reservation expired (its job waited out a provider pause) is
  // taken from the balance when it is there, once, and refused when it is not.
  expect(await ledger.settle(`job:${user}`, 'capture', 3, `image:${user}`, 'late picture')).toEqual({ status: 'from_balance', amount: 3 });
  expect(await ledger.settle(`job:${user}`, 'capture', 3, `image:${user}`, 'late picture')).toEqual({ status: 'duplicate', amount: 3 });
  expect(await ledger.account(user)).toEqual({ balance: 6, reserved: 0, available: 6 });
  await ledger.hold(user, 6, `other:${user}`, 3600, 'everything else reserved');
  expect(await ledger.settle(`job:${user}`, 'capture', 3, `image:2-${user}`, 'later picture')).toEqual({ status: 'insufficient', amount: 0 });
  expect(await ledger.account(user)).toEqual({ balance: 6, reserved: 6, available: 0 });
  // Once the job is closed (or deleted), nothing more is taken for it, even from the balance.
  await ledger.settle(`other:${user}`, 'release', null, `close:other:${user}`, 'other work done');
  expect((await ledger.settle(`job:${user}`, 'release', null, `close:${user}`, 'job closed')).status).toBe('applied');
  expect((await ledger.settle(`job:${user}`, 'capture', 3, `image:3-${user}`, 'after the close')).status).toBe('hold_closed');
  expect(await ledger.account(user)).toEqual({ balance: 6, reserved: 0, available: 6 });
});

test('movements are append-only', async () => {
  const user = randomUUID();
  await ledger.grant(user, 1, 'signup', `signup:${user}`, 'trial');
  await expect(pool.query('delete from credit_movements where user_id = $1', [user])).rejects.toThrow(/append-only/);
});
});
