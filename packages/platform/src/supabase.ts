import type { SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';

type SupabaseJs = typeof import('@supabase/supabase-js');

/**
 * A supabase-js client for server use, shared by billing (the ledger's SQL functions) and the
 * gateway and processors (the storage bucket). supabase-js builds a realtime client even when
 * only rpc or storage is used, and on Node 20 (no global WebSocket) that throws at creation
 * unless given one.
 */
export function createSupabaseClient(url: string, serviceRoleKey: string): SupabaseClient {
  // Loaded here, not at the top: supabase-js prints a Node 20 deprecation warning as it loads,
  // which every process would log though only those given SUPABASE_URL use it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createClient } = require('@supabase/supabase-js') as SupabaseJs;
  return createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as unknown as NonNullable<NonNullable<Parameters<SupabaseJs['createClient']>[2]>['realtime']>['transport'] },
  });
}
