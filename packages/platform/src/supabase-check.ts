import { createSupabaseClient } from './supabase';

/**
 * Supabase's part of `npm run provider-check`: the bucket exists and is private, the ledger's SQL
 * functions answer the service role, and, given the project's public anon key, that key reaches
 * none of them (migration 008). Nothing is written.
 */
export interface SupabaseCheckReport {
  status: 'ok' | 'failed' | 'skipped';
  details: string[];
}

const NOBODY = '00000000-0000-0000-0000-000000000000';

export async function checkSupabase(settings: { url?: string | undefined; serviceRoleKey?: string | undefined; anonKey?: string | undefined; bucket: string }): Promise<SupabaseCheckReport> {
  if (!settings.url) return { status: 'skipped', details: ['SUPABASE_URL is not set: Postgres directly and the local storage folder'] };
  if (!settings.serviceRoleKey) return { status: 'failed', details: ['SUPABASE_SERVICE_ROLE_KEY must be set with SUPABASE_URL'] };
  const details: string[] = [];
  const problems: string[] = [];
  const service = createSupabaseClient(settings.url, settings.serviceRoleKey);

  const bucket = await service.storage.getBucket(settings.bucket);
  if (bucket.error) {
    const missing = /not found/i.test(bucket.error.message);
    problems.push(missing ? `the bucket "${settings.bucket}" does not exist: create it (private), or set SUPABASE_BUCKET` : `the bucket "${settings.bucket}" could not be read: ${bucket.error.message}`);
  } else if (bucket.data.public) {
    problems.push(`the bucket "${settings.bucket}" is public: sellers' photos would be readable by anyone with a link; make it private`);
  } else {
    details.push(`bucket ${settings.bucket} (private)`);
  }

  const account = await service.rpc('ledger_account', { p_user: NOBODY });
  if (account.error) problems.push(`the ledger's SQL functions do not answer the service role (ledger_account: ${account.error.code} ${account.error.message}): run the migrations (npm run migrate)`);
  else details.push('ledger functions answer the service role');

  if (settings.anonKey) {
    const anon = createSupabaseClient(settings.url, settings.anonKey);
    // A probe that cannot write: ledger_grant refuses an amount of 0 before touching anything, so
    // "permission denied" (42501) means locked, and any other answer means the anon key ran it.
    const call = await anon.rpc('ledger_grant', { p_user: NOBODY, p_amount: 0, p_kind: 'adjustment', p_reference: 'provider-check', p_description: 'provider-check probe' });
    const read = await anon.from('users').select('id').limit(1);
    const callLocked = call.error?.code === '42501';
    const readLocked = Boolean(read.error) || (read.data?.length ?? 0) === 0;
    if (!callLocked) problems.push('the public anon key can execute ledger_grant (anyone could grant themselves credits): run migration 008 on this project');
    if (!readLocked) problems.push('the public anon key can read the users table: run migration 008 on this project');
    if (callLocked && readLocked) details.push('the anon key reaches no ledger function and no table');
  } else {
    details.push('SUPABASE_ANON_KEY not given: what the public key reaches was not checked');
  }
  return problems.length > 0 ? { status: 'failed', details: [...details, ...problems] } : { status: 'ok', details };
}
