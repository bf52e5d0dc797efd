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
  } finally {
    await client.query('select pg_advisory_unlock(727274)').catch(() => undefined);
    await client.end();
  }
  return applied;
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
