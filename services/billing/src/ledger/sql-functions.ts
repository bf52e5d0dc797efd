import type { SupabaseClient } from '@supabase/supabase-js';
import { queryWithRetry, type Pool } from '@masterpost/platform';

/**
 * How billing reaches the ledger's SQL functions (db/migrations): over a Postgres connection,
 * or through Supabase's PostgREST (`rpc`) when SUPABASE_URL is set. The functions, and so the
 * rules, are the same either way; only the transport differs. Arguments are passed by name.
 */
export interface SqlFunctions {
  /** A function returning a table: its rows. */
  rows<Row extends Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<Row[]>;
  /** A function returning one value. */
  value<Value>(name: string, args: Record<string, unknown>): Promise<Value>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function namedCall(name: string, args: Record<string, unknown>): { text: string; values: unknown[] } {
  const keys = Object.keys(args);
  if (![name, ...keys].every((identifier) => IDENTIFIER.test(identifier))) throw new Error(`not a plain SQL identifier in ${name}(${keys.join(', ')})`);
  return { text: `${name}(${keys.map((key, index) => `${key} => $${index + 1}`).join(', ')})`, values: keys.map((key) => args[key]) };
}

export class PgFunctions implements SqlFunctions {
  constructor(private readonly pool: Pool) {}

  rows<Row extends Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<Row[]> {
    const call = namedCall(name, args);
    // Serialization failures and deadlocks are retried: each function is one transaction.
    return queryWithRetry<Row>(this.pool, `select * from ${call.text}`, call.values);
  }

  async value<Value>(name: string, args: Record<string, unknown>): Promise<Value> {
    const call = namedCall(name, args);
    const rows = await queryWithRetry<{ value: Value }>(this.pool, `select ${call.text} as value`, call.values);
    return rows[0]!.value;
  }
}

/** Postgres's codes for a serialization failure and a deadlock: the call is safe to repeat. */
const RETRYABLE = new Set(['40001', '40P01']);

export class SupabaseFunctions implements SqlFunctions {
  constructor(private readonly client: SupabaseClient) {}

  private async rpc(name: string, args: Record<string, unknown>): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const { data, error } = await this.client.rpc(name, args);
      if (!error) return data;
      if (!RETRYABLE.has(error.code) || attempt >= 5) throw new Error(`supabase rpc ${name} failed: ${error.code} ${error.message}`);
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }

  async rows<Row extends Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<Row[]> {
    const data = await this.rpc(name, args);
    return (Array.isArray(data) ? data : [data]) as Row[];
  }

  async value<Value>(name: string, args: Record<string, unknown>): Promise<Value> {
    return (await this.rpc(name, args)) as Value;
  }
}
