import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { jobCatalog, JobName as JobNames, type JobName, type JobPayload, type JobResult, type WorkerSettings } from '@masterpost/contracts';
import { runWithRequestId, traceJob, type RedisConnection, type Logger } from '@masterpost/platform';

/** What every worker of the fleet shares: its Redis, its prefix, and how a dead process's jobs are found. */
export interface FleetWorkerOptions {
  connection: RedisConnection;
  prefix: string;
  stalledIntervalMs: number;
  lockMs: number;
  logger: Logger;
}

export type CatalogJob<N extends JobName> = Job<JobPayload<N>, JobResult<N>>;
export type CatalogWorker<N extends JobName> = Worker<JobPayload<N>, JobResult<N>>;

/**
 * A worker for one catalog entry: its queue, concurrency and stall rule come from the catalog
 * (an operator's setting may override them), and the payload is checked against the entry's
 * schema before the handler sees it, so a handler takes its payload typed and never `unknown`.
 * A payload that does not match, or a job of another name on the queue, fails at once: no retry
 * would make it valid.
 */
export function catalogWorker<N extends JobName>(
  name: N,
  handle: (payload: JobPayload<N>, job: CatalogJob<N>, token: string | undefined) => Promise<JobResult<N>>,
  fleet: FleetWorkerOptions,
  overrides: Partial<WorkerSettings> = {},
): CatalogWorker<N> {
  const entry = jobCatalog[name];
  const settings: WorkerSettings = { ...entry.worker, ...overrides };
  const worker = new Worker<JobPayload<N>, JobResult<N>>(
    entry.queue,
    async (job, token) => {
      if (job.name !== name) throw new UnrecoverableError(`unknown job ${job.name} on queue ${entry.queue}`);
      // A scheduler's job may carry no data at all.
      const parsed = entry.schema.safeParse(job.data ?? {});
      if (!parsed.success) throw new UnrecoverableError(`${name} payload is invalid: ${parsed.error.message}`);
      const payload = parsed.data as JobPayload<N>;
      // The request that queued it: its id is in every log line the job writes, and sent on to billing.
      const { requestId, traceparent } = payload as { requestId?: string; traceparent?: string };
      const run = () => (requestId ? runWithRequestId(requestId, () => handle(payload, job, token)) : handle(payload, job, token));
      // A picture is always traced (tracing on); another job when the request queuing it was.
      if (!traceparent && name !== JobNames.ImageProcess) return run();
      return traceJob(
        name === JobNames.ImageProcess ? 'picture' : name,
        {
          traceparent,
          // A flow's parent (JobFinalize) waits for its children, not for a worker: no queue wait for it.
          ...(name === JobNames.JobFinalize ? {} : { queuedAt: job.timestamp, startedAt: job.processedOn }),
          attributes: { 'messaging.system': 'bullmq', 'messaging.destination.name': entry.queue, 'bullmq.job.id': job.id ?? '', 'bullmq.job.attempt': job.attemptsMade + 1, ...jobAttributes(payload) },
        },
        run,
      );
    },
    {
      connection: fleet.connection,
      prefix: fleet.prefix,
      stalledInterval: fleet.stalledIntervalMs,
      lockDuration: fleet.lockMs,
      concurrency: settings.concurrency,
      maxStalledCount: settings.maxStalledCount,
    },
  );
  const { logger } = fleet;
  worker.on('error', (error) => logger.error({ err: error, queue: entry.queue }, 'worker error'));
  worker.on('failed', (job, error) => logger.warn({ jobId: job?.id, queue: entry.queue, attemptsMade: job?.attemptsMade, err: error.message }, 'job attempt failed'));
  return worker;
}

/** The ids a job's span is found by (a picture's job and image). */
function jobAttributes(payload: unknown): Record<string, string> {
  const { jobId, imageId } = payload as { jobId?: unknown; imageId?: unknown };
  return { ...(typeof jobId === 'string' ? { 'job.id': jobId } : {}), ...(typeof imageId === 'string' ? { 'image.id': imageId } : {}) };
}
