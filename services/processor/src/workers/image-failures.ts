import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import { fleetKeys, type JobName } from '@masterpost/contracts';
import type { RedisConnection, Logger } from '@masterpost/platform';
import type { ImagesRepository } from '../adapters/images.repository';
import type { FleetGate } from '../qwen/fleet-gate';
import type { ImageSettlement } from '../settlement/image-settlement';
import type { CatalogJob } from './catalog-worker';
import { decideOnFailure } from './failure-policy';

/** After a 429 the fleet waits this long; the adaptive rate (FleetGate.throttled) does the lasting slowing down. */
const COOL_DOWN_MS = 1_000;
/** A wrong key, model or result host stays wrong: lifted by a processor started with other settings. */
const CONFIG_PAUSE_MS = 24 * 3600 * 1000;

export interface ImageFailureDeps {
  connection: RedisConnection;
  prefix: string;
  repo: ImagesRepository;
  settlement: ImageSettlement;
  gate: FleetGate;
  /** This process's provider settings, fingerprinted: a process started with others lifts a pause. */
  configFingerprint: string;
  maxThrottledTries: number;
  /** How long a job waits before it looks again whether a paused fleet has resumed. */
  pauseRecheckMs: number;
  /** How long an account-state pause (an unpaid bill) lasts before a job's call checks again. */
  accountPauseMs: number;
  publishProgress: (jobId: string) => Promise<void>;
  logger: Logger;
}

type ImageJob = CatalogJob<typeof JobName.ImageProcess>;

/**
 * Carries out what failure-policy.ts decided for a picture's failed attempt, with BullMQ's means:
 * UnrecoverableError (fail now), moveToDelayed + DelayedError (wait, no attempt used),
 * worker.rateLimit + RateLimitError (the fleet cools down), or the error rethrown for BullMQ's
 * backoff. Always throws: the attempt did not deliver.
 */
export class ImageFailures {
  constructor(private readonly deps: ImageFailureDeps) {}

  async carryOut(error: unknown, job: ImageJob, token: string | undefined, worker: Pick<Worker, 'rateLimit'>): Promise<never> {
    const { deps } = this;
    const decision = decideOnFailure(error);
    switch (decision.action) {
      case 'fail':
        await this.failPicture(job, decision.code, decision.message);
        throw new UnrecoverableError(decision.message);
      case 'pause':
        if (decision.provider) {
          const { code, reason, accountState } = decision.provider;
          await deps.gate.pause(
            { kind: 'provider', reason, code, keyFingerprint: deps.configFingerprint, since: new Date().toISOString() },
            accountState ? deps.accountPauseMs : CONFIG_PAUSE_MS,
          );
          deps.logger.error({ code, reason }, 'ALERT: DashScope refuses our account or configuration; processing is paused until it is fixed');
        }
        // Back to the delayed set without using an attempt: nothing fails, nothing is charged.
        await job.moveToDelayed(Date.now() + deps.pauseRecheckMs, token);
        throw new DelayedError();
      case 'wait':
        if (decision.why === 'billing') deps.logger.warn({ jobId: job.id, err: (error as Error).message }, 'billing did not answer; the picture waits for it');
        await job.moveToDelayed(Date.now() + decision.ms, token);
        throw new DelayedError();
      case 'throttle': {
        const throttledKey = fleetKeys(deps.prefix).throttled(job.id ?? '');
        const throttles = await deps.connection.incr(throttledKey);
        await deps.connection.expire(throttledKey, 24 * 3600);
        if (throttles > deps.maxThrottledTries) {
          const message = 'The AI provider stayed too busy to take this photo. It was not charged.';
          await this.failPicture(job, 'throttled', message);
          throw new UnrecoverableError(message);
        }
        await worker.rateLimit(await deps.gate.coolDown(COOL_DOWN_MS));
        throw Worker.RateLimitError();
      }
      case 'retry':
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await this.failPicture(job, 'processing_failed', decision.lastAttemptMessage);
        throw error;
    }
  }

  private async failPicture(job: ImageJob, code: string, message: string): Promise<void> {
    const { imageId, jobId } = job.data;
    const context = await this.deps.repo.load(imageId);
    if (!context) {
      // Deleted while it was being made: nothing to settle, and nothing of it may stay behind.
      await this.deps.settlement.removeIfJobDeleted(jobId);
      return;
    }
    await this.deps.repo.markFailed(imageId, code, message);
    // Settled by its state, whichever call ended it: a picture that turned done meanwhile is charged.
    await this.deps.settlement.settle(imageId);
    await this.deps.publishProgress(jobId);
  }
}
