import type http from 'node:http';
import type { Pool } from '@masterpost/shared';

/**
 * A local stand-in for Supabase's PostgREST, just the part billing uses: `POST /rest/v1/rpc/<fn>`
 * with named arguments as JSON, run as the real function in the test's Postgres. Like PostgREST
 * it answers a set-returning function with an array of rows, a scalar one with its value, an
 * error with `{code, message}` (the SQLSTATE), and refuses a request without the service key.
 */
export function postgrestHandler(database: Pool | (() => Pool), serviceKey: string, calls: string[]): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const returnsSet = new Map<string, boolean>();
  return async (req, res) => {
    const pool = typeof database === 'function' ? database() : database;
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const match = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return send(404, { code: 'PGRST202', message: 'not found' });
    if (req.headers.apikey !== serviceKey || req.headers.authorization !== `Bearer ${serviceKey}`) return send(401, { code: 'PGRST301', message: 'bad key' });
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
    const keys = Object.keys(args);
    if (!keys.every((key) => /^[a-z_][a-z0-9_]*$/.test(key))) return send(400, { code: 'PGRST100', message: 'bad argument name' });
    const call = `${name}(${keys.map((key, index) => `${key} => $${index + 1}`).join(', ')})`;
    try {
      if (returnsSet.get(name)) {
        const { rows } = await pool.query(`select * from ${call}`, keys.map((key) => args[key]));
        return send(200, rows);
      }
      const { rows } = await pool.query<{ value: unknown }>(`select ${call} as value`, keys.map((key) => args[key]));
      return send(200, rows[0]?.value ?? null);
    } catch (error) {
      const pgError = error as { code?: string; message: string };
      return send(pgError.code?.startsWith('40') ? 409 : 400, { code: pgError.code ?? 'XX000', message: pgError.message, details: null, hint: null });
    }
  };
}
