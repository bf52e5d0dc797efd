import { ledgerReference, storageKey } from '@masterpost/contracts';
import { withSpan, type BillingClient, type Logger, type Storage } from '@masterpost/platform';
import type { ImageContext, ImagesRepository } from '../adapters/images.repository';
import type { WebhookEvents } from '../webhooks/webhook-events';

/**
 * The one place a picture's credits are decided. A picture is charged if and only if it was
 * delivered (`done`) and did not reuse an AI output the seller had already paid for; every
 * other ended picture is released. The state is read from the database each time, so the
 * picture's own worker, its last failed attempt and the job's finalizer all settle it the same
 * way, and a repeat changes nothing (one ledger reference per picture, for capture or release).
 *
 * A delivered picture the ledger will not charge (its reservation expired and the balance no
 * longer covers it) is taken back: not paid for, so not delivered.
 */
export type SettlementOutcome = 'charged' | 'free' | 'released' | 'undelivered' | 'not_ended' | 'gone';

export class ImageSettlement {
  constructor(private readonly deps: { repo: ImagesRepository; billing: BillingClient; storage: Storage; logger: Logger; events?: WebhookEvents }) {}

  /** Settles, then announces the picture's end to the seller's webhooks (an event per picture, however often settled). */
  async settle(imageId: string): Promise<SettlementOutcome> {
    const image = await this.deps.repo.load(imageId);
    if (!image) return 'gone';
    const outcome = await this.decide(imageId, image);
    const events = this.deps.events;
    if (events && (outcome === 'charged' || outcome === 'free')) await events.announce('picture.done', image.userId, imageId, imageId);
    else if (events && (outcome === 'undelivered' || (outcome === 'released' && image.imageStatus === 'failed'))) {
      await events.announce('picture.failed', image.userId, imageId, imageId);
    }
    return outcome;
  }

  private async decide(imageId: string, image: ImageContext): Promise<SettlementOutcome> {
    const { repo, billing } = this.deps;
    if (image.imageStatus === 'pending' || image.imageStatus === 'processing') return 'not_ended';
    const settlement = { holdReference: image.holdReference, amount: image.creditsPerImage, reference: ledgerReference.imageSettlement(imageId) };

    if (image.imageStatus === 'done' && !image.reusedOutput) {
      const capture = () => withSpan('capture', { 'image.id': imageId, 'credits.amount': settlement.amount }, () => billing.capture({ ...settlement, description: `Picture ${image.filename}` }));
      const charged = (answer: { status: string; amount: number }) => answer.amount > 0 && ['applied', 'duplicate', 'from_balance'].includes(answer.status);
      let charge = await capture();
      // Another settler of this picture may have charged it a moment ago: the repeat says so.
      if (!charged(charge)) charge = await capture();
      if (charged(charge)) {
        await repo.setCreditsCharged(imageId, charge.amount);
        return 'charged';
      }
      const message =
        charge.status === 'insufficient'
          ? 'The credit reservation for this picture expired while processing was paused, and your available credits no longer cover it. It was not charged.'
          : 'This picture could not be charged, so it was not delivered. It was not charged.';
      const resultKey = await repo.markUndelivered(imageId, charge.status === 'insufficient' ? 'reservation_expired' : 'not_charged', message);
      if (resultKey) await this.removeFiles(image.jobId, imageId, resultKey);
      this.deps.logger.warn({ imageId, ledger: charge.status }, 'a finished picture the ledger did not charge was taken back');
      return 'undelivered';
    }
    const free = image.imageStatus === 'done';
    await withSpan('release', { 'image.id': imageId }, () =>
      billing.release({ ...settlement, description: `Picture ${image.filename}: ${free ? 'same photo as before, not charged again' : 'not delivered, not charged'}` }),
    );
    await repo.setCreditsCharged(imageId, 0);
    return free ? 'free' : 'released';
  }

  /** A job deleted by its seller leaves no file behind, whatever an attempt wrote before it knew. */
  async removeIfJobDeleted(jobId: string): Promise<boolean> {
    if (await this.deps.repo.loadJob(jobId)) return false;
    await this.deps.storage.deletePrefix(storageKey.job(jobId));
    return true;
  }

  /** A picture's files, for one that will not be delivered (not paid for). */
  private async removeFiles(jobId: string, imageId: string, resultKey: string | null): Promise<void> {
    const keys = [storageKey.qwenOutput(jobId, imageId), storageKey.cutout(jobId, imageId), storageKey.mask(jobId, imageId), ...(resultKey ? [resultKey] : [])];
    for (const key of keys) await this.deps.storage.deletePrefix(key).catch(() => undefined);
  }
}
