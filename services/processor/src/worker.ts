import { createHash } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { fleetKeys, JobName, QueueName, storageKey } from '@masterpost/contracts';
import { BillingUnavailableError, type IORedis, type Logger, type Storage } from '@masterpost/platform';
import type { ImagesRepository } from './adapters/images.repository';
import type { ImageProcessHandler } from './handlers/image-process.handler';
import type { JobFinalizeHandler } from './handlers/job-finalize.handler';
import type { EditRenderHandler } from './handlers/edit-render.handler';
import type { RetentionHandler } from './handlers/retention.handler';
import { PermanentImageError } from './image-errors';
import { FleetPausedError, type FleetGate } from './qwen/fleet-gate';
import { TwinInFlightError } from './qwen/qwen-output.service';
import { ACCOUNT_STATE_CODES, QwenError } from './qwen/qwen.errors';
import type { ImageSettlement } from './settlement/image-settlement';

/**
 * The BullMQ workers and the one place where a handler's error becomes a queue decision:
 * - PermanentImageError / a "fail" QwenError: the image fails now (UnrecoverableError), its
 *   credits are released, no retry.
 * - a "throttle" QwenError (429): the whole fleet cools down and the job goes back to waiting
 *   without using an attempt, up to a cap of throttled tries.
 * - a "pause" QwenError (bad key, unpaid account) or a paused fleet (also the daily spend cap):
 *   nothing fails, nothing is charged; the job waits and the fleet stops calling until the
 *   setting is fixed.
 * - an identical photo's call under way: the job waits a moment and then reuses its output.
 * - billing not answering: the job waits and tries again, without using an attempt (the
 *   finalizer too), so a long billing outage delays settlement but never abandons it.
 * - anything else: thrown as is, so BullMQ retries with exponential backoff and jitter; on the
 *   last attempt the image fails and its credits are released.
 */
export interface WorkerDeps {
  connection: IORedis;
  prefix: string;
  concurrency: number;
  imageHandler: ImageProcessHandler;
  finalizeHandler: JobFinalizeHandler;
  retentionHandler: RetentionHandler;
  editHandler: EditRenderHandler;
  repo: ImagesRepository;
  settlement: ImageSettlement;
  storage: Storage;
  gate: FleetGate;
  /** This process's provider settings, fingerprinted: a process started with others lifts a pause. */
  configFingerprint: string;
  maxThrottledTries: number;
  /** How long a job waits before it looks again whether a paused fleet has resumed. */
  pauseRecheckMs: number;
  /** How long an account-state pause (an unpaid bill) lasts before a job's call checks again. */
  accountPauseMs: number;
  lockMs: number;
  stalledIntervalMs: number;
  publishProgress: (jobId: string) => Promise<void>;
  logger: Logger;
}

const COOL_DOWN_MS = 2_000;
const BILLING_RETRY_MS = 5_000;
/** A wrong key, model or result host stays wrong: lifted by a processor started with other settings. */
const CONFIG_PAUSE_MS = 24 * 3600 * 1000;
const TWIN_WAIT_MS = 2_000;

/**
 * What a provider pause is blamed on: the key, endpoint, model and allowed result hosts this
 * process runs with. Fixing any of them (a new key, a model that exists, a host added to
 * QWEN_RESULT_HOSTS) and starting a processor lifts the pause.
 */
export function providerFingerprint(settings: { apiKey: string; baseUrl: string; model: string; resultHosts: string[] }): string {
  const canonical = [settings.apiKey, settings.baseUrl, settings.model, [...settings.resultHosts].sort().join(',')].join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

export function createWorkers(deps: WorkerDeps): { images: Worker; jobs: Worker; maintenance: Worker; edits: Worker } {
  const { logger } = deps;
  const failImage = async (job: Job, code: string, message: string) => {
    const { imageId, jobId } = job.data as { imageId: string; jobId: string };
    const context = await deps.repo.load(imageId);
    if (!context) {
      // Deleted while it was being made: nothing to settle, and nothing of it may stay behind.
      if (!(await deps.repo.loadJob(jobId))) await deps.storage.deletePrefix(storageKey.job(jobId));
      return;
    }
    await deps.repo.markFailed(imageId, code, message);
    // Settled by its state, whichever call ended it: a picture that turned done meanwhile is charged.
    await deps.settlement.settle(imageId);
    await deps.publishProgress(jobId);
  };

  const images: Worker = new Worker(
    QueueName.Images,
    async (job, token) => {
      try {
        return await deps.imageHandler.handle(job.data);
      } catch (error) {
        if (error instanceof PermanentImageError) {
          await failImage(job, error.code, error.message);
          throw new UnrecoverableError(error.message);
        }
        if (error instanceof FleetPausedError || (error instanceof QwenError && error.kind === 'pause')) {
          if (error instanceof QwenError) {
            await deps.gate.pause(
              { kind: 'provider', reason: `${error.code}: ${error.message}`, code: error.code, keyFingerprint: deps.configFingerprint, since: new Date().toISOString() },
              ACCOUNT_STATE_CODES.has(error.code) ? deps.accountPauseMs : CONFIG_PAUSE_MS,
            );
            logger.error({ code: error.code, reason: error.message }, 'ALERT: DashScope refuses our account or configuration; processing is paused until it is fixed');
          }
          // Back to the delayed set without using an attempt: nothing fails, nothing is charged.
          await job.moveToDelayed(Date.now() + deps.pauseRecheckMs, token);
          throw new DelayedError();
        }
        if (error instanceof BillingUnavailableError) {
          // Billing not answering is no fault of the picture: it waits without using an attempt.
          logger.warn({ jobId: job.id, err: error.message }, 'billing did not answer; the picture waits for it');
          await job.moveToDelayed(Date.now() + BILLING_RETRY_MS, token);
          throw new DelayedError();
        }
        if (error instanceof TwinInFlightError) {
          await job.moveToDelayed(Date.now() + TWIN_WAIT_MS, token);
          throw new DelayedError();
        }
        if (error instanceof QwenError && error.kind === 'throttle') {
          const throttledKey = fleetKeys(deps.prefix).throttled(job.id ?? '');
          const throttles = await deps.connection.incr(throttledKey);
          await deps.connection.expire(throttledKey, 24 * 3600);
          if (throttles > deps.maxThrottledTries) {
            const message = 'The AI provider stayed too busy to take this photo. It was not charged.';
            await failImage(job, 'throttled', message);
            throw new UnrecoverableError(message);
          }
          const wait = await deps.gate.coolDown(COOL_DOWN_MS);
          await images.rateLimit(wait);
          throw Worker.RateLimitError();
        }
        if (error instanceof QwenError && (error.kind === 'fail' || error.kind === 'shrink')) {
          await failImage(job, error.code === 'DataInspectionFailed' ? 'content_refused' : 'provider_refused', error.sellerMessage);
          throw new UnrecoverableError(error.sellerMessage);
        }
        const attempts = job.opts.attempts ?? 1;
        if (job.attemptsMade + 1 >= attempts) {
          await failImage(job, 'processing_failed', error instanceof QwenError ? error.sellerMessage : 'This photo could not be processed. It was not charged.');
        }
        throw error;
      }
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency,
      // A stalled job (its process died) is picked up by another process; after this many
      // stalls it fails and the job's finalizer settles it.
      maxStalledCount: 3,
      stalledInterval: deps.stalledIntervalMs,
      lockDuration: deps.lockMs,
    },
  );

  const jobs: Worker = new Worker(
    QueueName.Jobs,
    async (job, token) => {
      if (job.name !== JobName.JobFinalize) throw new UnrecoverableError(`unknown job ${job.name}`);
      try {
        return await deps.finalizeHandler.handle(job.data);
      } catch (error) {
        // A job is closed however long billing is away: its settlement waits, it does not give up.
        if (!(error instanceof BillingUnavailableError)) throw error;
        logger.warn({ jobId: job.id, err: error.message }, 'billing did not answer; the job closes when it does');
        await job.moveToDelayed(Date.now() + BILLING_RETRY_MS, token);
        throw new DelayedError();
      }
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 4, maxStalledCount: 5, stalledInterval: deps.stalledIntervalMs, lockDuration: deps.lockMs },
  );

  const maintenance: Worker = new Worker(
    QueueName.Maintenance,
    async (job) => {
      if (job.name !== JobName.RetentionSweep) throw new UnrecoverableError(`unknown job ${job.name}`);
      return deps.retentionHandler.handle();
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1, stalledInterval: deps.stalledIntervalMs, lockDuration: deps.lockMs },
  );

  const edits: Worker = new Worker(
    QueueName.Edits,
    async (job) => {
      if (job.name !== JobName.EditRender) throw new UnrecoverableError(`unknown job ${job.name}`);
      return deps.editHandler.handle(job.data);
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 2, stalledInterval: deps.stalledIntervalMs, lockDuration: deps.lockMs },
  );

  for (const worker of [images, jobs, maintenance, edits]) {
    worker.on('error', (error) => logger.error({ err: error, queue: worker.name }, 'worker error'));
    worker.on('failed', (job, error) => logger.warn({ jobId: job?.id, queue: worker.name, attemptsMade: job?.attemptsMade, err: error.message }, 'job attempt failed'));
  }
  return { images, jobs, maintenance, edits };
}
