import { UnrecoverableError } from 'bullmq';
import { ledgerReference, type JobFinalizePayload, type JobName, type JobResult } from '@masterpost/contracts';
import { type BillingClient, type Logger } from '@masterpost/platform';
import type { ImagesRepository } from '../adapters/images.repository';
import type { SellerNotices } from '../mail/seller-notices';
import type { ImageSettlement } from '../settlement/image-settlement';
import type { WebhookEvents } from '../webhooks/webhook-events';

/**
 * JobFinalize: runs once every image of a job has ended (done or failed for good). It settles
 * every image through ImageSettlement (delivered and not reused: charged; the rest released;
 * each by its own reference, so a repeat changes nothing), returns what is left of the hold,
 * and closes the job. A job
 * therefore always ends, and its reservation is always fully resolved.
 */
export class JobFinalizeHandler {
  constructor(
    private readonly deps: {
      repo: ImagesRepository; billing: BillingClient; settlement: ImageSettlement; publishProgress: (jobId: string) => Promise<void>; logger: Logger;
      /** Webhooks: the job's end, and credits running low after it (below `creditsLowThreshold` available). */
      events?: WebhookEvents;
      creditsLowThreshold?: number;
      /** Mails: pictures ready (when the seller asked for them), credits low. */
      notices?: SellerNotices;
    },
  ) {}

  async handle({ jobId }: JobFinalizePayload): Promise<JobResult<typeof JobName.JobFinalize>> {
    const { repo, billing, settlement } = this.deps;
    const job = await repo.loadJob(jobId);
    if (!job) return { status: 'missing' };
    if (!job.holdReference) throw new UnrecoverableError(`job ${jobId} has no credit hold`);

    const images = await repo.listForJob(jobId);
    let delivered = 0;
    for (const image of images) {
      if (image.status === 'pending' || image.status === 'processing') {
        // Its queue entry ended without finishing it (removed, or stalled too often).
        await repo.markFailed(image.id, 'not_processed', 'This photo could not be processed. It was not charged.');
      }
      // By its state now: one that turned done in between is charged, a reused one released.
      const outcome = await settlement.settle(image.id);
      if (outcome === 'charged' || outcome === 'free') delivered++;
    }
    await billing.release({ holdReference: job.holdReference, amount: null, reference: ledgerReference.jobClose(job.holdReference), description: 'Job closed' });

    const status = delivered === images.length && images.length > 0 ? 'completed' : delivered > 0 ? 'completed_with_errors' : 'failed';
    await repo.finishJob(jobId, status);
    await this.deps.publishProgress(jobId);
    this.deps.logger.info({ jobId, delivered, total: images.length, status: job.status === 'cancelled' ? 'cancelled' : status }, 'job finalized');
    if (job.status !== 'cancelled') {
      await this.announce(jobId, job.userId, job.holdReference, status);
      await this.deps.notices?.jobEnded({ jobId, userId: job.userId, holdReference: job.holdReference, delivered, failed: images.length - delivered });
    }
    return { status };
  }

  private async announce(jobId: string, userId: string, holdReference: string, status: string): Promise<void> {
    const { events, notices } = this.deps;
    if (!events && !notices) return;
    // One event per processing of the job (a job re-processed after a failed enqueue has another hold).
    const key = holdReference.replace(/[^A-Za-z0-9_-]/g, '_');
    await events?.announce(status === 'failed' ? 'job.failed' : 'job.completed', userId, key, jobId);
    const balance = await this.deps.billing.account(userId);
    if (balance.available < (this.deps.creditsLowThreshold ?? 0)) {
      await events?.announce('credits.low', userId, key, jobId);
      await notices?.creditsLow(userId, balance.available);
    }
  }
}
