import { mailTemplates, type Pool } from '@masterpost/platform';
import type { Mailer } from './mailer';

/**
 * The mails the processor sends a seller on its own: their pictures are ready (when they asked
 * for it), their credits are low (at most once a period), a webhook endpoint of theirs was turned
 * off. Each has a dedupe key, so a retried job mails once.
 */
export class SellerNotices {
  constructor(private readonly deps: { pool: Pool; mailer: Mailer; publicUrl: string; lowBalanceEverySeconds: number }) {}

  async jobEnded(job: { jobId: string; userId: string; holdReference: string; delivered: number; failed: number }): Promise<void> {
    const seller = await this.seller(job.userId);
    if (!seller?.notify_pictures_ready || job.delivered === 0) return;
    await this.deps.mailer.send({
      userId: job.userId,
      to: seller.email,
      kind: 'picturesReady',
      content: mailTemplates.picturesReady({ delivered: job.delivered, failed: job.failed, link: this.link(`jobs/${job.jobId}`) }),
      dedupeKey: `ready:${job.holdReference}`,
    });
  }

  async creditsLow(userId: string, available: number): Promise<void> {
    const seller = await this.seller(userId);
    if (!seller) return;
    const period = Math.floor(Date.now() / 1000 / this.deps.lowBalanceEverySeconds);
    await this.deps.mailer.send({
      userId,
      to: seller.email,
      kind: 'lowBalance',
      content: mailTemplates.lowBalance({ available, link: this.link('buy') }),
      dedupeKey: `low:${userId}:${period}`,
    });
  }

  async endpointDisabled(userId: string, endpoint: { id: string; url: string; reason: string }): Promise<void> {
    const seller = await this.seller(userId);
    if (!seller) return;
    await this.deps.mailer.send({
      userId,
      to: seller.email,
      kind: 'endpointDisabled',
      content: mailTemplates.endpointDisabled({ url: endpoint.url, reason: endpoint.reason, link: this.link('developers') }),
      dedupeKey: `disabled:${endpoint.id}:${Math.floor(Date.now() / 1000)}`,
    });
  }

  private link(page: string): string {
    return `${this.deps.publicUrl.replace(/\/$/, '')}/${page}`;
  }

  /** A deleted account (its tombstone) is mailed nothing. */
  private async seller(userId: string): Promise<{ email: string; notify_pictures_ready: boolean } | null> {
    const { rows } = await this.deps.pool.query<{ email: string; notify_pictures_ready: boolean }>(
      'select email, notify_pictures_ready from users where id = $1 and deleted_at is null',
      [userId],
    );
    return rows[0] ?? null;
  }
}
