import { AppError, ErrorCode, isUuid, type PictureRecord } from '@masterpost/contracts';
import type { ImageRow, JobsRepository } from '../adapters/jobs.repository';
import type { ProgressHub } from '../adapters/progress-hub';
import type { IntakeService, UploadedFile } from './intake.service';
import type { JobsService } from './jobs.service';

/**
 * One picture in one call, the way remove.bg's users work: the photo is taken in as a job of one
 * (verified like any upload), processed with the same money rules (held, charged only when
 * delivered), and the call waits for it up to a bound. Past the bound the client polls the
 * picture's own URL.
 */
export interface OnePicture {
  record: PictureRecord;
  /** Set once the picture is delivered: where its bytes are. */
  resultKey: string | null;
  outputFormat: string | null;
}

const POLL_MS = 1000;

export class OneCallService {
  constructor(private readonly deps: { intake: IntakeService; jobsService: JobsService; jobs: JobsRepository; hub: ProgressHub }) {}

  /**
   * `onQueued` hears the picture's id as soon as its credits are held and it is queued (the
   * Idempotency-Key is bound to it then, so a retry after a later error makes no second job);
   * `signal` ends the wait when the client has gone.
   */
  async create(
    userId: string,
    file: UploadedFile,
    request: { pipeline: unknown; settings: unknown },
    waitSeconds: number,
    hooks: { onQueued?: (pictureId: string) => void; signal?: AbortSignal } = {},
  ): Promise<OnePicture> {
    const { jobId, accepted, rejected } = await this.deps.intake.intake(userId, [file]).catch((error: unknown) => {
      // One file, refused: its own reason is the answer, not "no images".
      const first = error instanceof AppError ? (error.details.rejected as Array<{ code: string; message: string }> | undefined)?.[0] : undefined;
      throw first ? new AppError(first.code === ErrorCode.ImageTooLarge ? 413 : 400, first.code, first.message, { field: 'image' }) : error;
    });
    if (accepted.length !== 1) {
      await this.deps.jobsService.remove(userId, jobId);
      throw new AppError(400, ErrorCode.InvalidInput, `send one picture (this held ${accepted.length + rejected.length}); upload several with POST /api/v1/upload`, { field: 'image' });
    }
    try {
      await this.deps.jobsService.process(userId, { job_id: jobId, pipeline: request.pipeline, settings: request.settings });
    } catch (error) {
      // Nothing was reserved: the job goes, so no picture is left waiting in the seller's history.
      await this.deps.jobsService.remove(userId, jobId).catch(() => undefined);
      throw error;
    }
    hooks.onQueued?.(accepted[0]!.image_id);
    return this.wait(userId, accepted[0]!.image_id, waitSeconds, hooks.signal);
  }

  /** The picture once it has ended, or as it is after `waitSeconds`. */
  async wait(userId: string, pictureId: string, waitSeconds: number, signal?: AbortSignal): Promise<OnePicture> {
    const first = await this.find(userId, pictureId);
    if (waitSeconds <= 0 || first.jobFinished || signal?.aborted) return this.answer(first);
    const deadline = Date.now() + waitSeconds * 1000;
    let latest = first;
    // Woken by the processors' progress messages; the poll is the safety net should one be lost.
    await new Promise<void>((resolve) => {
      let checking = false;
      const check = () => {
        if (checking) return;
        checking = true;
        this.find(userId, pictureId)
          .then((current) => {
            latest = current;
            if (current.jobFinished || Date.now() >= deadline) finish();
          }, finish)
          .finally(() => (checking = false));
      };
      const unsubscribe = this.deps.hub.onChange(latest.row.job_id, check);
      const poll = setInterval(check, POLL_MS);
      const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
      // A client that hung up stops the polling at once.
      signal?.addEventListener('abort', finish, { once: true });
      function finish() {
        unsubscribe();
        clearInterval(poll);
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        resolve();
      }
    });
    return this.answer(latest);
  }

  private async find(userId: string, pictureId: string): Promise<{ row: ImageRow & { job_id: string }; pipeline: PictureRecord['pipeline']; jobFinished: boolean }> {
    const row = isUuid(pictureId) ? await this.deps.jobs.findOwnedImageWithJob(pictureId, userId) : null;
    if (!row) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    // Finished means settled: a picture is charged or released before its job is.
    return { row, pipeline: row.pipeline, jobFinished: row.job_finished_at !== null };
  }

  private answer({ row, pipeline, jobFinished }: { row: ImageRow & { job_id: string }; pipeline: PictureRecord['pipeline']; jobFinished: boolean }): OnePicture {
    const done = row.status === 'done' && jobFinished;
    return {
      resultKey: done ? row.result_key : null,
      outputFormat: row.output_format,
      record: {
        picture_id: row.id,
        job_id: row.job_id,
        // Until its job has settled, a picture reads as processing: nothing is handed over uncharged.
        status: jobFinished ? row.status : row.status === 'pending' ? 'pending' : 'processing',
        pipeline,
        result_url: done ? `/api/v1/images/${row.id}/result` : null,
        location: `/api/v1/pictures/${row.id}`,
        width: done ? row.output_width : null,
        height: done ? row.output_height : null,
        shadow: done ? row.shadow_type : null,
        compliance: done ? row.compliance : null,
        credits_charged: row.credits_charged,
        error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
      },
    };
  }
}
