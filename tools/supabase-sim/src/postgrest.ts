import type http from 'node:http';
import type { Pool } from '@masterpost/platform';
import type { SupabaseApiRole } from './roles';

/**
 * A local stand-in for Supabase's PostgREST, the parts we use and the ones an attacker would:
 * `POST /rest/v1/rpc/<fn>` with named arguments as JSON, run as the real function in the test's
 * Postgres, and `GET /rest/v1/<table>` (a plain select). Each request runs as the role of the
 * key it carries, as Supabase does (`set local role`): the service key as `service_role`, the
 * anon key as `anon`, so the database's grants decide (databases prepared with
 * `prepareAsSupabase`). Like PostgREST it answers a set-returning function with an array of
 * rows, a scalar one with its value, and an error with `{code, message, details, hint}`:
 * 42501 (no privilege) is 401 for the anon role and 403 for others, as PostgREST maps it.
 */
export interface PostgrestKeys {
  serviceKey: string;
  anonKey?: string;
}

export function postgrestHandler(database: Pool | (() => Pool), keys: PostgrestKeys, calls: string[]): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const returnsSet = new Map<string, boolean>();
  return async (req, res) => {
    const pool = typeof database === 'function' ? database() : database;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const role = roleOf(req, keys);
    if (!role) return send(401, { message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' });
    const run = async <Row>(sql: string, values: unknown[]): Promise<Row[]> => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`set local role ${role}`);
        const { rows } = await client.query(sql, values);
        await client.query('commit');
        return rows as Row[];
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    };
    const fail = (error: unknown) => {
      const pgError = error as { code?: string; message: string };
      const status = pgError.code === '42501' ? (role === 'anon' ? 401 : 403) : pgError.code?.startsWith('40') ? 409 : 400;
      return send(status, { code: pgError.code ?? 'XX000', message: pgError.message, details: null, hint: null });
    };

    const table = /^\/rest\/v1\/([a-z_][a-z0-9_]*)(\?.*)?$/.exec(req.url ?? '');
    if (req.method === 'GET' && table && table[1] !== 'rpc') {
      try {
        return send(200, await run(`select * from public.${table[1]!}`, []));
      } catch (error) {
        return fail(error);
      }
    }
    const match = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return send(404, { code: 'PGRST202', message: 'not found' });
    const name = match[1]!;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const args = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    calls.push(name);
    if (!returnsSet.has(name)) {
      const { rows } = await pool.query<{ proretset: boolean }>('select proretset from pg_proc where proname = $1 limit 1', [name]);
      if (!rows[0]) return send(404, { code: 'PGRST202', message: `Could not find the function public.${name}` });
      returnsSet.set(name, rows[0].proretset);
    }
    const argNames = Object.keys(args);
    if (!argNames.every((key) => /^[a-z_][a-z0-9_]*$/.test(key))) return send(400, { code: 'PGRST100', message: 'bad argument name' });
    const call = `${name}(${argNames.map((key, index) => `${key} => $${index + 1}`).join(', ')})`;
    const values = argNames.map((key) => args[key]);
    try {
      if (returnsSet.get(name)) return send(200, await run(`select * from ${call}`, values));
      const rows = await run<{ value: unknown }>(`select ${call} as value`, values);
      return send(200, rows[0]?.value ?? null);
    } catch (error) {
      return fail(error);
    }
  };
}

/** supabase-js sends the key twice: as `apikey` and as the bearer token. */
function roleOf(req: http.IncomingMessage, keys: PostgrestKeys): SupabaseApiRole | null {
  const key = req.headers.apikey;
  if (typeof key !== 'string' || req.headers.authorization !== `Bearer ${key}`) return null;
  if (key === keys.serviceKey) return 'service_role';
  if (keys.anonKey !== undefined && key === keys.anonKey) return 'anon';
  return null;
}
