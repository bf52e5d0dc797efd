import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { dropDatabase, migrate, publicSchemaExposures } from '../../../db/migrate';
import { prepareAsSupabase } from '../../../tools/supabase-sim/src/roles';

/**
 * On Supabase, whatever `public` grants to anon is open to anyone with the public key. The
 * migrations lock the schema (008) and every migration run checks it stays locked, so a later
 * table or function that forgets stops the deploy with its name.
 */
const databaseUrl = `postgres://postgres@127.0.0.1:5432/mp_lock_${randomBytes(4).toString('hex')}`;
let client: Client;

beforeAll(async () => {
  await prepareAsSupabase(databaseUrl);
  await migrate(databaseUrl);
  client = new Client({ connectionString: databaseUrl });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await dropDatabase(databaseUrl);
});

test('after the migrations nothing in public is open to PUBLIC, anon or authenticated, and every table has row-level security', async () => {
  expect(await publicSchemaExposures(client)).toEqual([]);
  const { rows } = await client.query<{ fn: string }>(`select p.oid::regprocedure::text as fn from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'execute')`);
  expect(rows).toEqual([]);
  const { rows: serviceRole } = await client.query<{ allowed: boolean }>(`select has_function_privilege('service_role', 'ledger_grant(uuid, bigint, text, text, text)', 'execute') as allowed`);
  expect(serviceRole[0]!.allowed).toBe(true);
});

test('a table or function added without locking it is named by the check', async () => {
  await client.query('create table public.leaky (id int)');
  await client.query('create function public.leaky_fn() returns int language sql as $$ select 1 $$');
  await client.query('grant execute on function public.leaky_fn() to anon');
  expect(await publicSchemaExposures(client)).toEqual(['anon may execute function leaky_fn()', 'table leaky has no row-level security']);
  await expect(migrate(databaseUrl)).rejects.toThrow(/public schema is open .*table leaky has no row-level security/);
  await client.query('drop table public.leaky; drop function public.leaky_fn()');
});
