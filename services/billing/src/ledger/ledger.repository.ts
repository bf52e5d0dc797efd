import type { HistoryItem } from '@masterpost/contracts';
import type { HoldStatus, LedgerState, SettleStatus } from '@masterpost/platform';
import type { SqlFunctions } from './sql-functions';

/**
 * The ledger as billing's code sees it. Every method is one call of a SQL function of
 * db/migrations (one transaction each), reached through Postgres or Supabase alike.
 */
type Amount = string | number;
type BalanceRow = { balance: Amount; reserved: Amount; debt?: Amount };

function toState(row: BalanceRow | undefined): LedgerState {
  const balance = Number(row?.balance ?? 0);
  const reserved = Number(row?.reserved ?? 0);
  const owed = Number(row?.debt ?? 0);
  return { balance, reserved, available: balance - reserved, ...(owed > 0 ? { owed } : {}) };
}

export interface CheckoutFacts {
  eventId: string;
  type: string;
  paymentKey: string;
  sessionId: string;
  userId: string;
  packId: string;
  credits: number;
  amountCents: number;
  paid: boolean;
  failed: boolean;
  description: string;
}

export class LedgerStore {
  constructor(private readonly sql: SqlFunctions) {}

  async account(userId: string): Promise<LedgerState> {
    return toState((await this.sql.rows<BalanceRow>('ledger_account', { p_user: userId }))[0]);
  }

  async grant(userId: string, amount: number, kind: string, reference: string, description: string): Promise<LedgerState & { applied: boolean }> {
    const rows = await this.sql.rows<BalanceRow & { applied: boolean }>('ledger_grant', {
      p_user: userId, p_amount: amount, p_kind: kind, p_reference: reference, p_description: description,
    });
    return { ...(await this.account(userId)), applied: rows[0]?.applied === true };
  }

  async hold(userId: string, amount: number, reference: string, ttlSeconds: number, description: string): Promise<LedgerState & { status: HoldStatus }> {
    const rows = await this.sql.rows<{ status: HoldStatus }>('ledger_hold', {
      p_user: userId, p_amount: amount, p_reference: reference, p_ttl_seconds: ttlSeconds, p_description: description,
    });
    const row = rows[0];
    if (!row) throw new Error('ledger_hold returned nothing');
    return { ...(await this.account(userId)), status: row.status };
  }

  async settle(holdReference: string, kind: 'capture' | 'release', amount: number | null, reference: string, description: string): Promise<{ status: SettleStatus; amount: number }> {
    const rows = await this.sql.rows<{ status: SettleStatus; amount: Amount }>('ledger_settle', {
      p_hold_reference: holdReference, p_kind: kind, p_amount: amount, p_reference: reference, p_description: description,
    });
    const row = rows[0];
    if (!row) throw new Error('ledger_settle returned nothing');
    return { status: row.status, amount: Number(row.amount) };
  }

  async expireHolds(): Promise<Array<{ reference: string; released: number }>> {
    const rows = await this.sql.rows<{ reference: string; released: Amount }>('ledger_expire_holds', {});
    return rows.filter((row) => row.reference !== null).map((row) => ({ reference: row.reference, released: Number(row.released) }));
  }

  /** What changed the seller's balance or debt, newest first. */
  async history(userId: string, limit: number, beforeId?: string): Promise<HistoryItem[]> {
    const rows = await this.sql.rows<{ id: Amount; delta: Amount; debt_delta: Amount; kind: string; reference: string; description: string; created_at: Date | string }>(
      'ledger_history',
      { p_user: userId, p_limit: limit, p_before: beforeId ?? null },
    );
    return rows.map((row) => ({
      id: String(row.id),
      delta: Number(row.delta),
      ...(Number(row.debt_delta) !== 0 ? { owed_delta: Number(row.debt_delta) } : {}),
      kind: row.kind,
      reference: row.reference,
      description: row.description,
      created_at: new Date(row.created_at).toISOString(),
    }));
  }

  applyCheckout(facts: CheckoutFacts): Promise<string> {
    return this.sql.value<string>('stripe_apply_checkout', {
      p_event_id: facts.eventId, p_type: facts.type, p_payment_key: facts.paymentKey, p_session_id: facts.sessionId,
      p_user: facts.userId, p_pack: facts.packId, p_credits: facts.credits, p_amount_cents: facts.amountCents,
      p_paid: facts.paid, p_failed: facts.failed, p_description: facts.description,
    });
  }

  applyRefund(eventId: string, type: string, paymentKey: string, amountRefundedCents: number): Promise<string> {
    return this.sql.value<string>('stripe_apply_refund', { p_event_id: eventId, p_type: type, p_payment_key: paymentKey, p_amount_refunded: amountRefundedCents });
  }

  applyDispute(eventId: string, type: string, paymentKey: string, status: string): Promise<string> {
    return this.sql.value<string>('stripe_apply_dispute', { p_event_id: eventId, p_type: type, p_payment_key: paymentKey, p_status: status });
  }

  /** A mail to the seller, written in the outbox (the processor sends it); once per dedupe key. */
  queueNotice(userId: string, kind: 'receipt', data: Record<string, unknown>, dedupeKey: string): Promise<boolean> {
    return this.sql.value<boolean>('outbox_notice', { p_user: userId, p_kind: kind, p_data: data, p_dedupe_key: dedupeKey });
  }
}
