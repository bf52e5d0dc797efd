import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { logConnectionErrors, type Logger } from './logger';

export type { Pool, PoolClient };

export function createPool(connectionString: string, options: Partial<PoolConfig> = {}, logger?: Logger): Pool {
  const pool = new Pool({ connectionString, max: 10, connectionTimeoutMillis: 5000, ...options });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', logger ? logConnectionErrors(logger, 'postgres pool') : () => undefined);
  return pool;
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export function isRetryablePgError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && RETRYABLE.has(String((error as { code?: unknown }).code));
}

/**
 * Runs `attempt` again after a serialization failure or deadlock: Postgres's documented answer
 * to those is "run the whole transaction again". The one retry loop for PostgreSQL, whether it
 * is reached over a connection or through Supabase's PostgREST (an error carrying the same code).
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, maxAttempts: number): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= maxAttempts || !isRetryablePgError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** tries * Math.random()));
    }
  }
}

/** Runs `work` in a transaction, retried whole on serialization failures and deadlocks. */
export function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, maxAttempts = 5): Promise<T> {
  return retryOnConflict(async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }, maxAttempts);
}

/** Runs a single statement, retried like a transaction (the ledger functions lock rows). */
export function queryWithRetry<Row extends Record<string, unknown>>(pool: Pool, text: string, values: unknown[], maxAttempts = 5): Promise<Row[]> {
  return retryOnConflict(async () => (await pool.query<Row>(text, values)).rows, maxAttempts);
}
