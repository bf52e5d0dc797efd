import { Client } from 'pg';
import { stripeIdOf, unknownColumnsOf, type LegacySource, type SourceSeller, type SourceTransaction } from './source';

/**
 * The dormant Supabase variant (docs/original-system.md): `user_credits(user_id, credits)` and
 * `transactions(user_id, type, credits_change, credits_after, description,
 * stripe_payment_intent_id)`, with the emails in Supabase Auth's `auth.users` (or, in a copy
 * without it, an `email` column of `user_credits`). Read only.
 */
const CREDIT_COLUMNS = new Set(['id', 'user_id', 'credits', 'created_at', 'updated_at', 'email', '__email']);
const TRANSACTION_COLUMNS = new Set(['id', 'user_id', 'type', 'credits_change', 'credits_after', 'description', 'stripe_payment_intent_id', 'created_at']);

function describe(row: Record<string, unknown>): string {
  const parts = [typeof row.type === 'string' && row.type.trim() ? row.type.trim() : 'transaction'];
  const change = Number(row.credits_change);
  if (Number.isFinite(change) && change !== 0) parts.push(`${change > 0 ? '+' : ''}${change} credits`);
  if (typeof row.description === 'string' && row.description.trim()) parts.push(row.description.trim().slice(0, 300));
  return `Before the move: ${parts.join(', ')} (already in the credits brought over)`;
}

export async function readSupabaseSource(url: string): Promise<LegacySource> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`--postgres: cannot connect (${(error as Error).message})`);
  }
  try {
    const { rows: found } = await client.query<{ credits: string | null; transactions: string | null; auth_users: string | null }>(
      `select to_regclass('public.user_credits')::text as credits, to_regclass('public.transactions')::text as transactions, to_regclass('auth.users')::text as auth_users`,
    );
    const tables = found[0]!;
    if (!tables.credits) throw new Error('--postgres: no public.user_credits table (is this the old Masterpost Supabase project?)');
    const { rows: columns } = await client.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_schema = 'public' and table_name = 'user_credits'`,
    );
    const creditColumns = new Set(columns.map((column) => column.column_name));
    for (const required of ['user_id', 'credits']) {
      if (!creditColumns.has(required)) throw new Error(`--postgres: user_credits lacks the column ${required}`);
    }
    if (!tables.auth_users && !creditColumns.has('email')) throw new Error('--postgres: no emails: neither auth.users nor an email column in user_credits');
    const emailSource = tables.auth_users ? 'au.email' : 'uc.email';
    const join = tables.auth_users ? 'left join auth.users au on au.id = uc.user_id' : '';
    const { rows: creditRows } = await client.query<Record<string, unknown>>(
      `select uc.*, ${emailSource} as "__email" from public.user_credits uc ${join} order by uc.user_id`,
    );
    const sellers: SourceSeller[] = creditRows.map((row) => ({
      row: `user_credits ${String(row.user_id)}`,
      key: row.user_id === null ? null : String(row.user_id),
      email: row.__email,
      accessCode: null,
      // bigint and numeric arrive as text from pg: whole numbers only.
      credits: typeof row.credits === 'string' && /^-?\d+$/.test(row.credits) ? Number(row.credits) : row.credits,
      createdAt: row.created_at ?? null,
      lastUsedAt: row.updated_at ?? null,
      preferredId: typeof row.user_id === 'string' ? row.user_id : null,
      unknownColumns: unknownColumnsOf(row, CREDIT_COLUMNS),
    }));

    const transactions: SourceTransaction[] = [];
    if (tables.transactions) {
      const { rows } = await client.query<Record<string, unknown>>('select * from public.transactions order by created_at nulls first, id');
      rows.forEach((row, index) => {
        const stripe = stripeIdOf(row.stripe_payment_intent_id);
        transactions.push({
          row: `transactions ${String(row.id ?? index + 1)}`,
          id: String(row.id ?? `row-${index + 1}`),
          owner: row.user_id === null || row.user_id === undefined ? null : String(row.user_id),
          description: describe(row),
          createdAt: row.created_at ?? null,
          stripeIds: stripe ? [stripe] : [],
          unknownColumns: unknownColumnsOf(row, TRANSACTION_COLUMNS),
        });
      });
    }
    return { name: 'supabase', label: url.replace(/\/\/[^@/]*@/, '//'), sellers, transactions, notMoved: [] };
  } finally {
    await client.end();
  }
}
