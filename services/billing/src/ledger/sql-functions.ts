import type { SupabaseClient } from '@supabase/supabase-js';
import { queryWithRetry, retryOnConflict, type Pool } from '@masterpost/platform';

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

export class SupabaseFunctions implements SqlFunctions {
  constructor(private readonly client: SupabaseClient) {}

  private rpc(name: string, args: Record<string, unknown>): Promise<unknown> {
    // PostgREST passes PostgreSQL's error code on: a serialization failure or deadlock is retried
    // by the same loop as over a connection (each function is one transaction).
    return retryOnConflict(async () => {
      const { data, error } = await this.client.rpc(name, args);
      if (error) throw Object.assign(new Error(`supabase rpc ${name} failed: ${error.code} ${error.message}`), { code: error.code });
      return data;
    }, 5);
  }

  async rows<Row extends Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<Row[]> {
    const data = await this.rpc(name, args);
    return (Array.isArray(data) ? data : [data]) as Row[];
  }

  async value<Value>(name: string, args: Record<string, unknown>): Promise<Value> {
    return (await this.rpc(name, args)) as Value;
  }
}
