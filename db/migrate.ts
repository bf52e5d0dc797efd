import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';

/**
 * Applies db/migrations/*.sql in name order, each once, each in its own transaction. An
 * advisory lock makes concurrent starts (several containers) wait instead of racing.
 */
export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined): Promise<string[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock(727274)');
    await client.query(
      'create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set((await client.query<{ name: string }>('select name from schema_migrations')).rows.map((row) => row.name));
    const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).sort();
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
      await client.query('begin');
      try {
        await client.query(sql);
        await client.query('insert into schema_migrations (name) values ($1)', [file]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`);
      }
      applied.push(file);
      log(`applied ${file}`);
    }
    const open = await publicSchemaExposures(client);
    if (open.length > 0) {
      throw new Error(`the public schema is open to the Data API's public roles (lock it in the migration that adds it, as 008 does): ${open.join('; ')}`);
    }
  } finally {
    await client.query('select pg_advisory_unlock(727274)').catch(() => undefined);
    await client.end();
  }
  return applied;
}

/**
 * What Supabase's anon key could reach (migration 008): a table in `public` without row-level
 * security, or any table, sequence or function that PUBLIC, `anon` or `authenticated` may use.
 * Empty when the schema is locked. Checked after every migration run, so a new table or
 * function that forgets to lock itself stops the deploy instead of leaking.
 */
export async function publicSchemaExposures(client: Pick<Client, 'query'>): Promise<string[]> {
  const { rows } = await client.query<{ problem: string }>(`
    with exposed_roles as (
      select 0::oid as oid, 'PUBLIC' as name
      union all select oid, rolname from pg_roles where rolname in ('anon', 'authenticated')
    )
    select format('table %s has no row-level security', c.relname) as problem
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
    union all
    select format('%s may %s %s %s', r.name, lower(a.privilege_type), case c.relkind when 'S' then 'sequence' else 'table' end, c.relname)
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      cross join lateral aclexplode(coalesce(c.relacl, acldefault(case c.relkind when 'S' then 's'::"char" else 'r'::"char" end, c.relowner))) a
      join exposed_roles r on r.oid = a.grantee
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
    union all
    select format('%s may execute function %s', r.name, p.oid::regprocedure)
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
      join exposed_roles r on r.oid = a.grantee
     where n.nspname = 'public'
    order by 1`);
  return rows.map((row) => row.problem);
}

/** Runs `work` on the server's `postgres` database, with the name of the one in the URL. */
async function withAdminClient(databaseUrl: string, work: (admin: Client, name: string) => Promise<void>): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be letters, digits or _`);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await work(admin, name);
  } finally {
    await admin.end();
  }
}

/** Creates the database named in the URL when it does not exist yet (local runs and tests). */
export function ensureDatabase(databaseUrl: string): Promise<void> {
  return withAdminClient(databaseUrl, async (admin, name) => {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`create database "${name}"`);
  });
}

export function dropDatabase(databaseUrl: string): Promise<void> {
  return withAdminClient(databaseUrl, async (admin, name) => {
    await admin.query(`drop database if exists "${name}" with (force)`);
  });
}

if (require.main === module) {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/masterpost';
  ensureDatabase(databaseUrl)
    .then(() => migrate(databaseUrl, (line) => console.log(line)))
    .then((applied) => console.log(applied.length ? `migrations applied: ${applied.length}` : 'database is up to date'))
    .catch((error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    });
}
