import { Pool, type PoolClient, type PoolConfig } from 'pg';

export type { Pool, PoolClient };

export function createPool(connectionString: string, options: Partial<PoolConfig> = {}): Pool {
  const pool = new Pool({ connectionString, max: 10, connectionTimeoutMillis: 5000, ...options });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

export function isRetryablePgError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && RETRYABLE.has(String((error as { code?: unknown }).code));
}

/**
 * Runs `work` in a transaction, retried on serialization failures and deadlocks: Postgres's
 * documented answer to those is "run the whole transaction again".
 */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, maxAttempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (attempt < maxAttempts && isRetryablePgError(error)) {
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * Math.random()));
        continue;
      }
      throw error;
    } finally {
      client.release();
    }
  }
}

/** Runs a single statement, retried like a transaction (the ledger functions lock rows). */
export async function queryWithRetry<Row extends Record<string, unknown>>(
  pool: Pool,
  text: string,
  values: unknown[],
  maxAttempts = 5,
): Promise<Row[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await pool.query<Row>(text, values);
      return result.rows;
    } catch (error) {
      if (attempt < maxAttempts && isRetryablePgError(error)) {
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * Math.random()));
        continue;
      }
      throw error;
    }
  }
}
