import { Client } from 'pg';
import { ensureDatabase } from '../../../db/migrate';

/**
 * A database set up as a Supabase project's is before our migrations run (supabase/postgres,
 * migrations/db/init-scripts/00000000000000-initial-schema.sql): the API roles, and default
 * privileges that grant every new table, sequence and function in `public` to all of them. Our
 * migrations must take those grants back (008); the stand-in then answers each key as its role.
 *
 * Roles belong to the whole Postgres cluster, so they are created once and shared by every test
 * database; default privileges belong to one database.
 */
export const SUPABASE_API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type SupabaseApiRole = (typeof SUPABASE_API_ROLES)[number];

const ROLE_OPTIONS: Record<SupabaseApiRole, string> = {
  anon: 'nologin noinherit',
  authenticated: 'nologin noinherit',
  service_role: 'nologin noinherit bypassrls',
};

export async function prepareAsSupabase(databaseUrl: string): Promise<void> {
  await ensureDatabase(databaseUrl);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const role of SUPABASE_API_ROLES) {
      try {
        await client.query(`create role ${role} ${ROLE_OPTIONS[role]}`);
      } catch (error) {
        // Another test database created it first (42710 duplicate_object; 23505 when two race).
        const code = (error as { code?: string }).code;
        if (code !== '42710' && code !== '23505') throw error;
      }
    }
    await client.query(`
      grant usage on schema public to anon, authenticated, service_role;
      alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
      alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
      alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;`);
  } finally {
    await client.end();
  }
}
