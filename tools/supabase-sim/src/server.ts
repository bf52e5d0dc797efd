import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from '@masterpost/platform';
import { postgrestHandler } from './postgrest';
import { storageApiHandler, type StorageFaults } from './storage-api';

/**
 * A local Supabase for tests: PostgREST's `rpc` (the ledger's SQL functions, run in the test's
 * Postgres) and the Storage API (objects in a folder), behind one URL as SUPABASE_URL is.
 */
export interface SupabaseStandIn {
  url: string;
  /** The rpc functions called, in order. */
  calls: string[];
  /** Fault switches for drills (storage-api.ts): `faults.uploadStatus = 500` fails every upload until set back to null. */
  faults: StorageFaults;
  close: () => Promise<void>;
}

/** `pool` may be a getter, for a stand-in that must be up before the database it serves exists. */
export async function startSupabaseStandIn(options: {
  serviceKey: string;
  /** The project's public key: requests with it run as `anon`. */
  anonKey?: string;
  pool?: Pool | (() => Pool);
  storageDir?: string;
  /** Buckets that exist (created as an operator would); others answer "Bucket not found". */
  buckets?: string[];
  port?: number;
}): Promise<SupabaseStandIn> {
  const calls: string[] = [];
  const rpc = options.pool ? postgrestHandler(options.pool, { serviceKey: options.serviceKey, ...(options.anonKey ? { anonKey: options.anonKey } : {}) }, calls) : null;
  const faults: StorageFaults = { uploadStatus: null, refused: 0 };
  const storage = options.storageDir ? storageApiHandler(options.storageDir, options.serviceKey, options.buckets, faults) : null;
  const server = http.createServer((req, res) => {
    const route = req.url?.startsWith('/rest/v1/') ? rpc : req.url?.startsWith('/storage/v1/') ? storage : null;
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'no such route' }));
      return;
    }
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (error as Error).message }));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    faults,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Billing's tests: just the rpc part. */
export function startPostgrestStandIn(pool: Pool, serviceKey: string): Promise<SupabaseStandIn> {
  return startSupabaseStandIn({ pool, serviceKey });
}
