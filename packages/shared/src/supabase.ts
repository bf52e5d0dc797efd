import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';

/**
 * A supabase-js client for server use, shared by billing (the ledger's SQL functions) and the
 * gateway and processors (the storage bucket). supabase-js builds a realtime client even when
 * only rpc or storage is used, and on Node 20 (no global WebSocket) that throws at creation
 * unless given one.
 */
export function createSupabaseClient(url: string, serviceRoleKey: string): SupabaseClient {
  return createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as unknown as NonNullable<NonNullable<Parameters<typeof createClient>[2]>['realtime']>['transport'] },
  });
}
