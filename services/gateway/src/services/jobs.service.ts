import { randomBytes } from 'node:crypto';
import { AppError, creditsFor, ErrorCode, isPipelineId, isUuid, ledgerReference, pipelineIds, storageKey, isTerminalJobStatus, jobSettingsSchema, type JobList, type JobSettings, type Progress } from '@masterpost/contracts';
import type { Storage } from '@masterpost/platform';
import type { ImageRow, JobRow, JobsRepository } from '../adapters/jobs.repository';
import type { QueueAdapter } from '../adapters/queue.adapter';
import type { JobCreditsService } from './job-credits.service';
import { jobListPage, readJobCursor } from './job-list';
import { checkSettings } from './settings';

/**
 * Processing, cancelling and reporting on jobs. Credits are reserved before anything is
 * queued; if the queue cannot take the job the reservation is returned at once.
 */
export class JobsService {
  constructor(
    private readonly deps: {
      jobs: JobsRepository;
      queue: QueueAdapter;
      storage: Storage;
      credits: JobCreditsService;
      qwenPerSecond: number;
    },
  ) {}

  async ownedJob(jobId: string, userId: string): Promise<JobRow> {
    const job = isUuid(jobId) ? await this.deps.jobs.findOwned(jobId, userId) : null;
    if (!job) throw new AppError(404, ErrorCode.NotFound, 'no such job');
    return job;
  }

  async process(userId: string, body: unknown): Promise<{ job_id: string; status: 'queued'; images: number; credits_reserved: number }> {
    const { jobId, pipeline, settings } = parseProcessRequest(body);
    const job = await this.ownedJob(jobId, userId);
    if (job.status !== 'uploaded') throw new AppError(409, ErrorCode.AlreadyProcessing, `this job is already ${job.status}`, { status: job.status });
    const images = await this.deps.jobs.images(jobId);
    const needed = creditsFor(images.length, job.credits_per_image);

    const nonce = randomBytes(6).toString('hex');
    const holdReference = ledgerReference.jobHold(jobId, nonce);
    if (!(await this.deps.jobs.claimForProcessing(jobId, userId, pipeline, settings, holdReference, nonce))) {
      throw new AppError(409, ErrorCode.AlreadyProcessing, 'this job is already being processed');
    }
    try {
      await this.deps.credits.reserve({ userId, holdReference, amount: needed, pictures: images.length });
    } catch (error) {
      await this.deps.jobs.unclaim(jobId);
      throw error;
    }
    try {
      await this.deps.queue.enqueueJob(jobId, images.map((image) => image.id), nonce);
    } catch {
      // Redis is down: give the credits back and let the seller try again.
      await this.deps.credits.returnReservation(holdReference, 'Could not queue the job');
      await this.deps.jobs.unclaim(jobId);
      throw new AppError(503, ErrorCode.ServiceUnavailable, 'the work queue is unavailable right now; nothing was charged, try again shortly');
    }
    return { job_id: jobId, status: 'queued', images: images.length, credits_reserved: needed };
  }

  async cancel(userId: string, jobId: string): Promise<{ job_id: string; status: string; released_credits: number }> {
    const job = await this.ownedJob(jobId, userId);
    const cancelledImages = await this.deps.jobs.cancel(jobId);
    if (cancelledImages === null) throw new AppError(409, ErrorCode.AlreadyFinished, `this job is already ${job.status}`, { status: job.status });
    const released = job.hold_reference ? await this.deps.credits.releaseCancelled(job.hold_reference, cancelledImages, job.credits_per_image) : 0;
    return { job_id: jobId, status: 'cancelled', released_credits: released };
  }

  /**
   * Deletes a job and every file of it at the seller's request. Work still queued is cancelled
   * first (its credits released); delivered pictures stay charged, as they were delivered.
   */
  async remove(userId: string, jobId: string): Promise<{ job_id: string; deleted: true; released_credits: number }> {
    const job = await this.ownedJob(jobId, userId);
    let released = 0;
    if (['uploaded', 'queued', 'processing'].includes(job.status)) released = (await this.cancel(userId, jobId)).released_credits;
    await this.deps.jobs.delete(jobId);
    // Pictures still at the AI will not be delivered (their rows are gone): what the hold still
    // reserves goes back now, not when it expires. With billing down the files still go, and the
    // ledger's reconciliation returns the hold no job refers to any more.
    if (job.hold_reference && !job.finished_at) released += await this.deps.credits.returnReservation(job.hold_reference, 'Job deleted');
    await this.deps.storage.deletePrefix(storageKey.job(jobId));
    return { job_id: jobId, deleted: true, released_credits: released };
  }

  /** The seller's jobs, newest first, a page at a time. */
  async list(userId: string, query: { limit: number; cursor?: string | undefined }): Promise<JobList> {
    const rows = await this.deps.jobs.pageOwned(userId, query.limit + 1, readJobCursor(query.cursor));
    return jobListPage(rows, query.limit);
  }

  async progress(userId: string, jobId: string): Promise<Progress> {
    const job = await this.ownedJob(jobId, userId);
    const images = await this.deps.jobs.images(jobId);
    const count = (status: ImageRow['status']) => images.filter((image) => image.status === status).length;
    const completed = count('done');
    const failed = count('failed');
    const cancelled = count('cancelled');
    const ended = completed + failed + cancelled;
    const remaining = images.length - ended;
    const queued = job.status === 'queued' || job.status === 'processing';
    return {
      job_id: job.id,
      status: job.status,
      finished: job.finished_at !== null,
      pipeline: job.pipeline,
      total: images.length,
      completed,
      failed,
      cancelled,
      percentage: images.length ? Math.round((ended / images.length) * 100) : 0,
      eta_seconds: queued && remaining > 0 ? Math.ceil(remaining / this.deps.qwenPerSecond + 10) : 0,
      credits_reserved: job.hold_reference && !isTerminalJobStatus(job.status) ? remaining * job.credits_per_image : 0,
      // What the ledger took (recorded from its answers), not what the pictures' states suggest.
      credits_charged: images.reduce((sum, image) => sum + image.credits_charged, 0),
      images: images.map((image) => ({
        image_id: image.id,
        filename: image.filename,
        status: image.status,
        ...(image.error_code ? { error: { code: image.error_code, message: image.error_message ?? '' } } : {}),
        ...(image.status === 'done'
          ? {
              result_url: `/api/v1/images/${image.id}/result`,
              output_name: image.output_name ?? undefined,
              shadow: image.shadow_type ?? undefined,
              compliance: image.compliance,
              charged: image.credits_charged > 0,
            }
          : {}),
      })),
    };
  }
}

function parseProcessRequest(body: unknown): { jobId: string; pipeline: (typeof pipelineIds)[number]; settings: JobSettings } {
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const unknownKeys = Object.keys(input).filter((key) => !['job_id', 'pipeline', 'settings'].includes(key));
  if (unknownKeys.length) throw new AppError(400, ErrorCode.InvalidInput, `unknown field ${unknownKeys[0]}`, { field: unknownKeys[0] });
  if (typeof input.job_id !== 'string') throw new AppError(400, ErrorCode.InvalidInput, 'job_id is required', { field: 'job_id' });
  if (!isPipelineId(input.pipeline)) {
    throw new AppError(400, ErrorCode.InvalidInput, `pipeline must be one of ${pipelineIds.join(', ')}`, { field: 'pipeline' });
  }
  checkSettings(input.pipeline, input.settings);
  return { jobId: input.job_id, pipeline: input.pipeline, settings: jobSettingsSchema.parse(input.settings ?? {}) };
}
