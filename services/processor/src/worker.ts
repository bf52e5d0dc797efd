import { createHash } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { fleetKeys, JobName, QueueName } from '@masterpost/contracts';
import { BillingUnavailableError, type IORedis, type Logger } from '@masterpost/platform';
import type { ImagesRepository } from './adapters/images.repository';
import type { ImageProcessHandler } from './handlers/image-process.handler';
import type { JobFinalizeHandler } from './handlers/job-finalize.handler';
import type { EditRenderHandler } from './handlers/edit-render.handler';
import type { RetentionHandler } from './handlers/retention.handler';
import { BILLING_RETRY_MS, decideOnFailure } from './failure-policy';
import type { FleetGate } from './qwen/fleet-gate';
import type { ImageSettlement } from './settlement/image-settlement';

/**
 * The BullMQ workers. A picture's failed attempt is decided by failure-policy.ts (fail, pause,
 * wait, throttle or retry) and carried out here with BullMQ's means: UnrecoverableError,
 * moveToDelayed + DelayedError (no attempt used), worker.rateLimit + RateLimitError, or a rethrow
 * for BullMQ's backoff. The finalizer waits out billing outages the same way, so a long one
 * delays settlement but never abandons it.
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
/** A wrong key, model or result host stays wrong: lifted by a processor started with other settings. */
const CONFIG_PAUSE_MS = 24 * 3600 * 1000;

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
  // What every worker of the fleet shares: its Redis, its prefix, and how a dead process's jobs are found.
  const shared = { connection: deps.connection, prefix: deps.prefix, stalledInterval: deps.stalledIntervalMs, lockDuration: deps.lockMs };
  const failImage = async (job: Job, code: string, message: string) => {
    const { imageId, jobId } = job.data as { imageId: string; jobId: string };
    const context = await deps.repo.load(imageId);
    if (!context) {
      // Deleted while it was being made: nothing to settle, and nothing of it may stay behind.
      await deps.settlement.removeIfJobDeleted(jobId);
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
        const decision = decideOnFailure(error);
        switch (decision.action) {
          case 'fail':
            await failImage(job, decision.code, decision.message);
            throw new UnrecoverableError(decision.message);
          case 'pause':
            if (decision.provider) {
              const { code, reason, accountState } = decision.provider;
              await deps.gate.pause(
                { kind: 'provider', reason, code, keyFingerprint: deps.configFingerprint, since: new Date().toISOString() },
                accountState ? deps.accountPauseMs : CONFIG_PAUSE_MS,
              );
              logger.error({ code, reason }, 'ALERT: DashScope refuses our account or configuration; processing is paused until it is fixed');
            }
            // Back to the delayed set without using an attempt: nothing fails, nothing is charged.
            await job.moveToDelayed(Date.now() + deps.pauseRecheckMs, token);
            throw new DelayedError();
          case 'wait':
            if (decision.why === 'billing') logger.warn({ jobId: job.id, err: (error as Error).message }, 'billing did not answer; the picture waits for it');
            await job.moveToDelayed(Date.now() + decision.ms, token);
            throw new DelayedError();
          case 'throttle': {
            const throttledKey = fleetKeys(deps.prefix).throttled(job.id ?? '');
            const throttles = await deps.connection.incr(throttledKey);
            await deps.connection.expire(throttledKey, 24 * 3600);
            if (throttles > deps.maxThrottledTries) {
              const message = 'The AI provider stayed too busy to take this photo. It was not charged.';
              await failImage(job, 'throttled', message);
              throw new UnrecoverableError(message);
            }
            await images.rateLimit(await deps.gate.coolDown(COOL_DOWN_MS));
            throw Worker.RateLimitError();
          }
          case 'retry':
            if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await failImage(job, 'processing_failed', decision.lastAttemptMessage);
            throw error;
        }
      }
    },
    // A stalled picture (its process died) is taken over by another process; after this many
    // stalls it fails and the job's finalizer settles it.
    { ...shared, concurrency: deps.concurrency, maxStalledCount: 3 },
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
    { ...shared, concurrency: 4, maxStalledCount: 5 },
  );

  const maintenance: Worker = new Worker(
    QueueName.Maintenance,
    async (job) => {
      if (job.name !== JobName.RetentionSweep) throw new UnrecoverableError(`unknown job ${job.name}`);
      return deps.retentionHandler.handle();
    },
    { ...shared, concurrency: 1 },
  );

  const edits: Worker = new Worker(
    QueueName.Edits,
    async (job) => {
      if (job.name !== JobName.EditRender) throw new UnrecoverableError(`unknown job ${job.name}`);
      return deps.editHandler.handle(job.data);
    },
    { ...shared, concurrency: 2 },
  );

  for (const worker of [images, jobs, maintenance, edits]) {
    worker.on('error', (error) => logger.error({ err: error, queue: worker.name }, 'worker error'));
    worker.on('failed', (job, error) => logger.warn({ jobId: job?.id, queue: worker.name, attemptsMade: job?.attemptsMade, err: error.message }, 'job attempt failed'));
  }
  return { images, jobs, maintenance, edits };
}
