import type { Logger, Pool } from '@masterpost/platform';
import { ledgerReference } from '@masterpost/contracts';
import type { LedgerStore } from './ledger.repository';

/**
 * The books checked against what happened, as a bank reconciles: for every job finished in
 * the window, each picture's charge against the ledger's capture (delivered and not a reuse:
 * charged exactly once at the job's price; anything else: nothing), what the seller was shown
 * against what the ledger took, each reservation against a live job, and paid AI calls against
 * pictures, and jobs whose pictures all ended but that were never closed. Reservations no job
 * refers to (a request that died half-way) are released first: that is a repair, not a
 * difference. Whatever remains is reported.
 *
 * It reads the jobs, images and qwen_calls tables beside the ledger's: one Postgres holds all of
 * them, in both deployments (the Supabase one included).
 */
export interface Mismatch {
  kind: 'charge' | 'shown_charge' | 'open_hold' | 'stuck_job' | 'paid_twice' | 'unpaid_call';
  subject: string;
  detail: string;
}

export interface ReconciliationReport {
  checkedPictures: number;
  releasedOrphanHolds: string[];
  mismatches: Mismatch[];
}

export class Reconciliation {
  constructor(
    private readonly deps: { pool: Pool; ledger: LedgerStore; logger: Logger },
    private readonly settings: { windowDays: number; orphanGraceSeconds: number; stuckJobSeconds?: number } = { windowDays: 30, orphanGraceSeconds: 600 },
  ) {}

  async run(): Promise<ReconciliationReport> {
    const releasedOrphanHolds = await this.releaseOrphanHolds();
    const { checked, mismatches } = await this.findMismatches();
    const report = { checkedPictures: checked, releasedOrphanHolds, mismatches };
    if (mismatches.length > 0) this.deps.logger.error({ mismatches }, `ALERT: ledger reconciliation found ${mismatches.length} difference(s)`);
    else this.deps.logger.info({ checkedPictures: checked, releasedOrphanHolds: releasedOrphanHolds.length }, 'ledger reconciliation: clean');
    return report;
  }

  /** Active holds no live job refers to (a billing answer lost, a gateway that died mid-request). */
  private async releaseOrphanHolds(): Promise<string[]> {
    const { rows } = await this.deps.pool.query<{ reference: string }>(
      `select h.reference from credit_holds h
        where h.status = 'active' and h.created_at < now() - make_interval(secs => $1)
          and h.reference like 'job:%'
          and not exists (select 1 from jobs j where j.hold_reference = h.reference)`,
      [this.settings.orphanGraceSeconds],
    );
    const released: string[] = [];
    for (const { reference } of rows) {
      const result = await this.deps.ledger.settle(reference, 'release', null, ledgerReference.jobClose(reference), 'Reservation returned: no job holds it');
      if (result.status === 'applied') released.push(reference);
    }
    if (released.length > 0) this.deps.logger.warn({ released }, 'released reservations no live job holds');
    return released;
  }

  private async findMismatches(): Promise<{ checked: number; mismatches: Mismatch[] }> {
    const { pool } = this.deps;
    const window = [this.settings.windowDays];
    // A picture not charged needs no movement of its own: the job's close (or the hold's expiry)
    // returned its reservation. Only what was captured is compared, and the paid AI calls beside it.
    const pictures = await pool.query<{ id: string; job_id: string; status: string; reused_output: boolean; price: number; shown: number; captured: string | null; paid: number }>(
      `select i.id, i.job_id, i.status, i.reused_output, j.credits_per_image as price, i.credits_charged as shown,
              (select -m.delta from credit_movements m where m.reference = 'image:' || i.id and m.kind = 'capture') as captured,
              (select count(*)::int from qwen_calls c where c.image_id = i.id and c.outcome = 'success') as paid
         from images i join jobs j on j.id = i.job_id
        where j.finished_at is not null and j.finished_at > now() - make_interval(days => $1) and j.hold_reference is not null`,
      window,
    );
    const mismatches: Mismatch[] = [];
    for (const picture of pictures.rows) {
      const expected = picture.status === 'done' && !picture.reused_output ? picture.price : 0;
      const captured = Number(picture.captured ?? 0);
      const subject = `picture ${picture.id} (job ${picture.job_id})`;
      if (captured !== expected) mismatches.push({ kind: 'charge', subject, detail: `${picture.status}${picture.reused_output ? ' (reused output)' : ''}: should be charged ${expected}, the ledger took ${captured}` });
      if (picture.shown !== captured) mismatches.push({ kind: 'shown_charge', subject, detail: `shown as charged ${picture.shown}, the ledger took ${captured}` });
      if (picture.paid > 1) mismatches.push({ kind: 'paid_twice', subject, detail: `${picture.paid} paid AI calls for one picture` });
      if (expected > 0 && picture.paid === 0) mismatches.push({ kind: 'unpaid_call', subject, detail: 'delivered as a new AI output, but no paid AI call is recorded for it' });
    }

    const holds = await pool.query<{ reference: string; remaining: string; job_status: string }>(
      `select h.reference, h.remaining, j.status as job_status from credit_holds h join jobs j on j.hold_reference = h.reference
        where h.status = 'active' and j.finished_at is not null`,
    );
    for (const hold of holds.rows) {
      mismatches.push({ kind: 'open_hold', subject: `hold ${hold.reference}`, detail: `still reserves ${hold.remaining} credits for a job that ended (${hold.job_status})` });
    }

    // Every picture ended a while ago, yet the job was never closed (its finalizer lost): its
    // delivered pictures may be uncharged and its reservation still held.
    const stuck = await pool.query<{ id: string; status: string }>(
      `select j.id, j.status from jobs j
        where j.finished_at is null and j.status in ('queued', 'processing', 'cancelled')
          and not exists (select 1 from images i where i.job_id = j.id and i.status in ('pending', 'processing'))
          and (select max(i.finished_at) from images i where i.job_id = j.id) < now() - make_interval(secs => $1)`,
      // A finalizer waiting out a billing outage is not stuck yet: half an hour by default.
      [this.settings.stuckJobSeconds ?? 1800],
    );
    for (const job of stuck.rows) {
      mismatches.push({ kind: 'stuck_job', subject: `job ${job.id}`, detail: `every picture ended, but the job (${job.status}) was never closed and settled` });
    }

    return { checked: pictures.rowCount ?? 0, mismatches };
  }
}
