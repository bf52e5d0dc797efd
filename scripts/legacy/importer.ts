import { queryWithRetry, type Pool } from '@masterpost/platform';
import { hashAccessCode } from '../../services/gateway/src/services/auth.service';
import type { ImportPlan, SellerPlan } from './plan';

/**
 * Applies a plan: one SQL call (`legacy_import_seller`, db/migrations/012) per seller, which is
 * one transaction, so an interrupted run leaves whole sellers only and a re-run adds what is
 * missing. A dry run makes the same calls inside transactions it rolls back: the report is the
 * one a real run would print, and nothing stays written.
 */
export type SellerStatus = 'imported' | 'updated' | 'unchanged' | 'conflict' | 'deleted';
// 'deleted': the seller came across before and then deleted their account here; the SQL function
// (db/migrations/012) answers it, from either source, so neither they nor their credits come back.

export interface SellerOutcome {
  seller: SellerPlan;
  status: SellerStatus;
  userId: string;
  granted: number;
  totalGranted: number;
  historyAdded: number;
  stripeIdsAdded: number;
}

interface Row extends Record<string, unknown> {
  status: SellerStatus;
  user_id: string;
  granted: string;
  total_granted: string;
  history_added: number;
  stripe_ids_added: number;
}

const CALL = `select * from legacy_import_seller(p_source => $1, p_email => $2, p_source_emails => $3, p_preferred_id => $4,
  p_access_code_hash => $5, p_credits => $6, p_created_at => $7, p_history => $8, p_stripe_ids => $9)`;

export interface ImportOptions {
  dryRun: boolean;
  /** Sellers in flight at once: scrypt runs on libuv's threads while other sellers wait on Postgres. */
  concurrency?: number;
  progress?: (done: number, total: number) => void;
}

async function alreadyImported(pool: Pool, source: string): Promise<Set<string>> {
  try {
    const { rows } = await pool.query<{ email: string }>('select email from legacy_sellers where source = $1', [source]);
    return new Set(rows.map((row) => row.email));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') throw new Error('the database has no legacy_sellers table: run `npm run migrate` first');
    throw error;
  }
}

export async function applyPlan(pool: Pool, plan: ImportPlan, options: ImportOptions): Promise<SellerOutcome[]> {
  const known = await alreadyImported(pool, plan.source);
  const outcomes: SellerOutcome[] = new Array<SellerOutcome>(plan.sellers.length);
  let next = 0;
  let done = 0;

  const importOne = async (seller: SellerPlan): Promise<Row> => {
    // The code is hashed only for a new account (a re-run never revives a code a seller replaced
    // by a password), and not at all in a dry run, whose writes are rolled back anyway.
    const codeHash = !options.dryRun && seller.accessCode !== null && !known.has(seller.email) ? await hashAccessCode(seller.accessCode) : null;
    const values = [
      plan.source, seller.email, seller.sourceEmails, seller.preferredId, codeHash, seller.credits, seller.createdAt,
      JSON.stringify(seller.history), JSON.stringify(seller.stripeIds),
    ];
    if (!options.dryRun) return (await queryWithRetry<Row>(pool, CALL, values))[0]!;
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<Row>(CALL, values);
      return rows[0]!;
    } finally {
      await client.query('rollback').catch(() => undefined);
      client.release();
    }
  };

  let failed = false;
  const worker = async () => {
    while (!failed && next < plan.sellers.length) {
      const index = next++;
      const seller = plan.sellers[index]!;
      // A failure stops every worker: what was committed stays whole, a re-run does the rest.
      const row = await importOne(seller).catch((error: unknown) => {
        failed = true;
        throw new Error(`${seller.email} (${seller.rows.join(', ')}): ${(error as Error).message}`);
      });
      outcomes[index] = {
        seller,
        status: row.status,
        userId: row.user_id,
        granted: Number(row.granted),
        totalGranted: Number(row.total_granted),
        historyAdded: row.history_added,
        stripeIdsAdded: row.stripe_ids_added,
      };
      done++;
      options.progress?.(done, plan.sellers.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return outcomes;
}
