import { DelayedError, type Worker } from 'bullmq';
import { jobCatalog, JobName } from '@masterpost/contracts';
import { BillingUnavailableError, type Logger } from '@masterpost/platform';
import type { EditRenderHandler } from '../handlers/edit-render.handler';
import type { ImageProcessHandler } from '../handlers/image-process.handler';
import type { JobFinalizeHandler } from '../handlers/job-finalize.handler';
import type { RetentionHandler } from '../handlers/retention.handler';
import type { OutboxSweepHandler } from '../mail/outbox-sweep.handler';
import type { SendMailHandler } from '../mail/send-mail.handler';
import type { WebhookDeliverHandler } from '../webhooks/deliver.handler';
import type { WebhookDispatchHandler } from '../webhooks/dispatch.handler';
import { catalogWorker, type CatalogWorker, type FleetWorkerOptions } from './catalog-worker';
import { BILLING_RETRY_MS } from './failure-policy';
import type { ImageFailures } from './image-failures';
import type { ImageSlots } from './image-slots';
import type { WatchedWorker } from './stuck-worker-watch';

export interface WorkerDeps {
  fleet: FleetWorkerOptions;
  /** Pictures one processor works on at once (image-slots.ts), changed at run time; `busy` is kept here. */
  imageSlots: ImageSlots;
  imageHandler: ImageProcessHandler;
  imageFailures: ImageFailures;
  finalizeHandler: JobFinalizeHandler;
  retentionHandler: RetentionHandler;
  editHandler: EditRenderHandler;
  dispatchHandler: WebhookDispatchHandler;
  deliverHandler: WebhookDeliverHandler;
  mailHandler: SendMailHandler;
  outboxSweepHandler: OutboxSweepHandler;
  logger: Logger;
}

/**
 * The processor's four workers, one per catalog entry. A picture's failed attempt is decided by
 * failure-policy.ts and carried out by image-failures.ts. The finalizer waits out billing
 * outages the same way, so a long one delays settlement but never abandons it.
 */
export function createWorkers(deps: WorkerDeps) {
  const { fleet, logger } = deps;
  const images: CatalogWorker<typeof JobName.ImageProcess> = catalogWorker(
    JobName.ImageProcess,
    async (payload, job, token) => {
      deps.imageSlots.busy++;
      try {
        return await deps.imageHandler.handle(payload);
      } catch (error) {
        return deps.imageFailures.carryOut(error, job, token, images);
      } finally {
        deps.imageSlots.busy--;
      }
    },
    fleet,
    { concurrency: deps.imageSlots.concurrency },
  );

  const makeJobs = () => catalogWorker(
    JobName.JobFinalize,
    async (payload, job, token) => {
      try {
        return await deps.finalizeHandler.handle(payload);
      } catch (error) {
        // A job is closed however long billing is away: its settlement waits, it does not give up.
        if (!(error instanceof BillingUnavailableError)) throw error;
        logger.warn({ jobId: job.id, err: error.message }, 'billing did not answer; the job closes when it does');
        await job.moveToDelayed(Date.now() + BILLING_RETRY_MS, token);
        throw new DelayedError();
      }
    },
    fleet,
  );

  // The workers no gate holds back, each replaceable by a new one (stuck-worker-watch.ts).
  const makers: Record<string, () => Worker> = {
    [JobName.JobFinalize]: makeJobs,
    [JobName.RetentionSweep]: () => catalogWorker(JobName.RetentionSweep, () => deps.retentionHandler.handle(), fleet),
    [JobName.EditRender]: () => catalogWorker(JobName.EditRender, (payload) => deps.editHandler.handle(payload), fleet),
    [JobName.WebhookDispatch]: () => catalogWorker(JobName.WebhookDispatch, (payload) => deps.dispatchHandler.handle(payload), fleet),
    [JobName.WebhookDeliver]: () =>
      catalogWorker(JobName.WebhookDeliver, (payload, job) => deps.deliverHandler.handle(payload, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)), fleet),
    [JobName.MailSend]: () => catalogWorker(JobName.MailSend, (payload, job) => deps.mailHandler.handle(payload, job.attemptsMade + 1 >= (job.opts.attempts ?? 1)), fleet),
    [JobName.MailOutboxSweep]: () => catalogWorker(JobName.MailOutboxSweep, () => deps.outboxSweepHandler.handle(), fleet),
  };
  const current = new Map(Object.entries(makers).map(([name, make]) => [name, make()]));
  const watched: WatchedWorker[] = Object.entries(makers).map(([name, make]) => ({
    queueName: jobCatalog[name as JobName].queue,
    current: () => current.get(name)!,
    replace: () => {
      const old = current.get(name)!;
      current.set(name, make());
      // Its active jobs (if any) finish; it takes no new one.
      old.close().catch((error: unknown) => logger.warn({ err: (error as Error).message, queue: old.name }, 'closing a replaced worker failed'));
    },
  }));

  return {
    images,
    /** Follows the fleet: the image worker's slots, changed while it runs. */
    setImageConcurrency(concurrency: number): void {
      if (concurrency === deps.imageSlots.concurrency) return;
      deps.imageSlots.concurrency = concurrency;
      images.concurrency = concurrency;
    },
    /** The workers the stuck-worker watch may replace. */
    watched,
    /** Stops taking jobs and waits for the active ones. */
    close: () => Promise.all([images, ...current.values()].map((worker) => worker.close())),
  };
}
