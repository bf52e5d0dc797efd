import { queryWithRetry, type HistoryItem, type HoldStatus, type LedgerState, type Pool, type SettleStatus } from '@masterpost/shared';

/**
 * The ledger as billing's code sees it. Every method is one call of a SQL function of
 * db/migrations/002_ledger.sql, so the Postgres and Supabase paths run the same logic.
 */
export interface LedgerStore {
  account(userId: string): Promise<LedgerState>;
  grant(userId: string, amount: number, kind: string, reference: string, description: string): Promise<LedgerState & { applied: boolean }>;
  hold(userId: string, amount: number, reference: string, ttlSeconds: number, description: string): Promise<LedgerState & { status: HoldStatus }>;
  settle(holdReference: string, kind: 'capture' | 'release', amount: number | null, reference: string, description: string): Promise<{ status: SettleStatus; amount: number }>;
  expireHolds(): Promise<Array<{ reference: string; released: number }>>;
  history(userId: string, limit: number, beforeId?: string): Promise<HistoryItem[]>;
}

type BalanceRow = { balance: string; reserved: string };

function toState(row: BalanceRow | undefined): LedgerState {
  const balance = Number(row?.balance ?? 0);
  const reserved = Number(row?.reserved ?? 0);
  return { balance, reserved, available: balance - reserved };
}

export class PgLedgerStore implements LedgerStore {
  constructor(private readonly pool: Pool) {}

  async account(userId: string): Promise<LedgerState> {
    const rows = await queryWithRetry<BalanceRow>(this.pool, 'select * from ledger_account($1)', [userId]);
    return toState(rows[0]);
  }

  async grant(userId: string, amount: number, kind: string, reference: string, description: string) {
    const rows = await queryWithRetry<BalanceRow & { applied: boolean }>(
      this.pool,
      'select * from ledger_grant($1, $2, $3, $4, $5)',
      [userId, amount, kind, reference, description],
    );
    return { ...toState(rows[0]), applied: rows[0]?.applied === true };
  }

  async hold(userId: string, amount: number, reference: string, ttlSeconds: number, description: string) {
    const rows = await queryWithRetry<BalanceRow & { status: HoldStatus }>(
      this.pool,
      'select * from ledger_hold($1, $2, $3, $4, $5)',
      [userId, amount, reference, ttlSeconds, description],
    );
    const row = rows[0];
    if (!row) throw new Error('ledger_hold returned nothing');
    return { ...toState(row), status: row.status };
  }

  async settle(holdReference: string, kind: 'capture' | 'release', amount: number | null, reference: string, description: string) {
    const rows = await queryWithRetry<{ status: SettleStatus; amount: string }>(
      this.pool,
      'select * from ledger_settle($1, $2, $3, $4, $5)',
      [holdReference, kind, amount, reference, description],
    );
    const row = rows[0];
    if (!row) throw new Error('ledger_settle returned nothing');
    return { status: row.status, amount: Number(row.amount) };
  }

  async expireHolds() {
    const rows = await queryWithRetry<{ reference: string; released: string }>(this.pool, 'select * from ledger_expire_holds()', []);
    return rows.map((row) => ({ reference: row.reference, released: Number(row.released) }));
  }

  async history(userId: string, limit: number, beforeId?: string): Promise<HistoryItem[]> {
    // Holds and releases move reserved credits, not the balance: the seller's history lists
    // what changed their balance. Reservations show in `reserved` on the balance endpoint.
    const rows = await queryWithRetry<{ id: string; delta: string; kind: string; reference: string; description: string; created_at: Date }>(
      this.pool,
      `select id, delta, kind, reference, description, created_at from credit_movements
        where user_id = $1 and delta <> 0 and ($2::bigint is null or id < $2::bigint)
        order by id desc limit $3`,
      [userId, beforeId ?? null, limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      delta: Number(row.delta),
      kind: row.kind,
      reference: row.reference,
      description: row.description,
      created_at: row.created_at.toISOString(),
    }));
  }
}
