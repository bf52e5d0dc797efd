import type { ComplianceReport, ImageStatus, JobSettings, JobStatus, PipelineId } from '@masterpost/contracts';
import type { Pool } from '@masterpost/platform';

/** The processor's reads and writes of jobs and images. Every write is conditional on state,
 * so a retried or duplicated job can never move an image backwards (done -> processing). */
export interface ImageContext {
  imageId: string;
  jobId: string;
  userId: string;
  filename: string;
  uploadKey: string;
  contentSha256: string;
  imageStatus: ImageStatus;
  jobStatus: JobStatus;
  pipeline: PipelineId;
  settings: JobSettings | null;
  holdReference: string;
  creditsPerImage: number;
  /** Its stored Qwen output was reused from an earlier paid call for the same photo. */
  reusedOutput: boolean;
}

export interface FinishedImage {
  qwenKey: string;
  cutoutKey: string;
  resultKey: string;
  outputName: string;
  outputFormat: string;
  width: number;
  height: number;
  bytes: number;
  shadowType: string;
  compliance: ComplianceReport;
  /** The Qwen output came from an earlier paid call for the same photo: delivered free. */
  reusedOutput: boolean;
}

export interface EditableImage {
  jobId: string;
  userId: string;
  filename: string;
  status: ImageStatus;
  pipeline: PipelineId;
  cutoutKey: string | null;
  qwenKey: string | null;
  resultKey: string | null;
  jobSettings: Record<string, unknown> | null;
  editSettings: Record<string, unknown> | null;
  /** Its current report: an edit keeps what only the first render could measure (the drift). */
  compliance: ComplianceReport | null;
}

export interface ImageSummary {
  id: string;
  status: ImageContext['imageStatus'];
}

export class ImagesRepository {
  constructor(private readonly pool: Pool) {}

  async load(imageId: string): Promise<ImageContext | null> {
    const { rows } = await this.pool.query<{
      image_id: string; job_id: string; user_id: string; filename: string; upload_key: string; content_sha256: string;
      image_status: ImageStatus; job_status: JobStatus; pipeline: PipelineId; settings: JobSettings | null;
      hold_reference: string; credits_per_image: number; reused_output: boolean;
    }>(
      `select i.id as image_id, i.job_id, i.user_id, i.filename, i.upload_key, i.content_sha256, i.status as image_status, i.reused_output,
              j.status as job_status, j.pipeline, j.settings, j.hold_reference, j.credits_per_image
         from images i join jobs j on j.id = i.job_id where i.id = $1`,
      [imageId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      imageId: row.image_id, jobId: row.job_id, userId: row.user_id, filename: row.filename, uploadKey: row.upload_key,
      contentSha256: row.content_sha256, imageStatus: row.image_status, jobStatus: row.job_status, pipeline: row.pipeline,
      settings: row.settings, holdReference: row.hold_reference, creditsPerImage: row.credits_per_image,
      reusedOutput: row.reused_output,
    };
  }

  async markProcessing(imageId: string, jobId: string): Promise<boolean> {
    const result = await this.pool.query(
      `update images set status = 'processing', started_at = coalesce(started_at, now()), updated_at = now()
        where id = $1 and status in ('pending', 'processing')`,
      [imageId],
    );
    await this.pool.query(`update jobs set status = 'processing', updated_at = now() where id = $1 and status = 'queued'`, [jobId]);
    return (result.rowCount ?? 0) > 0;
  }

  async setQwenKey(imageId: string, qwenKey: string, reusedOutput: boolean): Promise<void> {
    await this.pool.query('update images set qwen_key = $2, reused_output = $3, updated_at = now() where id = $1', [imageId, qwenKey, reusedOutput]);
  }

  async markDone(imageId: string, finished: FinishedImage): Promise<boolean> {
    const result = await this.pool.query(
      `update images set status = 'done', qwen_key = $2, cutout_key = $3, result_key = $4, output_name = $5, output_format = $6,
              output_width = $7, output_height = $8, output_bytes = $9, shadow_type = $10, compliance = $11,
              reused_output = reused_output or $12, error_code = null, error_message = null, finished_at = now(), updated_at = now()
        where id = $1 and status in ('pending', 'processing')`,
      [imageId, finished.qwenKey, finished.cutoutKey, finished.resultKey, finished.outputName, finished.outputFormat,
        finished.width, finished.height, finished.bytes, finished.shadowType, JSON.stringify(finished.compliance), finished.reusedOutput],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** What the ledger took for this picture, from its own answer (progress and the manifest show it). */
  async setCreditsCharged(imageId: string, credits: number): Promise<void> {
    await this.pool.query('update images set credits_charged = $2, updated_at = now() where id = $1', [imageId, credits]);
  }

  /** A finished picture that will not be delivered (the ledger did not charge it); returns its result key. */
  async markUndelivered(imageId: string, code: string, message: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ result_key: string | null }>(
      `update images i set status = 'failed', error_code = $2, error_message = $3, result_key = null, credits_charged = 0, updated_at = now()
         from (select id, result_key from images where id = $1 for update) previous
        where i.id = previous.id and i.status = 'done' and i.credits_charged = 0
        returning previous.result_key`,
      [imageId, code, message],
    );
    return rows[0]?.result_key ?? null;
  }

  /** Fails an image unless it already ended; returns whether this call failed it. */
  async markFailed(imageId: string, code: string, message: string): Promise<boolean> {
    const result = await this.pool.query(
      `update images set status = 'failed', error_code = $2, error_message = $3, finished_at = now(), updated_at = now()
        where id = $1 and status in ('pending', 'processing')`,
      [imageId, code, message],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async listForJob(jobId: string): Promise<ImageSummary[]> {
    const { rows } = await this.pool.query<ImageSummary>('select id, status from images where job_id = $1 order by position', [jobId]);
    return rows;
  }

  async loadJob(jobId: string): Promise<{ userId: string; status: string; holdReference: string | null; creditsPerImage: number } | null> {
    const { rows } = await this.pool.query<{ user_id: string; status: string; hold_reference: string | null; credits_per_image: number }>(
      'select user_id, status, hold_reference, credits_per_image from jobs where id = $1',
      [jobId],
    );
    const row = rows[0];
    return row ? { userId: row.user_id, status: row.status, holdReference: row.hold_reference, creditsPerImage: row.credits_per_image } : null;
  }

  async finishJob(jobId: string, status: 'completed' | 'completed_with_errors' | 'failed'): Promise<void> {
    // A cancelled job keeps its status; either way the job is finished from now on.
    await this.pool.query(
      `update jobs set status = case when status in ('queued', 'processing') then $2 else status end,
              finished_at = coalesce(finished_at, now()), updated_at = now()
        where id = $1`,
      [jobId, status],
    );
  }

  /**
   * Jobs whose files are past the retention period; a job still running gets twice as long, so
   * its pictures are not pulled from under it.
   */
  async jobsPastRetention(retentionSeconds: number, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `select id from jobs
        where files_deleted_at is null and created_at < now() - make_interval(secs => $1)
          and (status not in ('queued', 'processing') or created_at < now() - make_interval(secs => $1 * 2))
        order by created_at limit $2`,
      [retentionSeconds, limit],
    );
    return rows.map((row) => row.id);
  }

  async markFilesDeleted(jobId: string): Promise<void> {
    await this.pool.query('update jobs set files_deleted_at = now() where id = $1', [jobId]);
  }

  async recordQwenCall(call: {
    imageId: string; requestId: string | null; model: string; outcome: string; httpStatus: number | null; errorCode: string | null;
    latencyMs: number; costMicroUsd: number; resultUrl?: string;
  }): Promise<void> {
    await this.pool.query(
      `insert into qwen_calls (image_id, request_id, model, outcome, http_status, error_code, latency_ms, cost_micro_usd, result_url)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [call.imageId, call.requestId, call.model, call.outcome, call.httpStatus, call.errorCode, call.latencyMs, call.costMicroUsd, call.resultUrl ?? null],
    );
  }

  /**
   * The result URL of a paid call for this image whose picture never reached storage (its
   * process died between the answer and the download). DashScope keeps it 24 hours; an hour
   * of margin leaves time to fetch it.
   */
  async unclaimedResultUrl(imageId: string, model: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ result_url: string }>(
      `select result_url from qwen_calls
        where image_id = $1 and model = $2 and outcome = 'success' and result_url is not null
          and created_at > now() - interval '23 hours'
        order by id desc limit 1`,
      [imageId, model],
    );
    return rows[0]?.result_url ?? null;
  }

  /**
   * Paid calls made again for this image because its output drifted (recorded as outcome
   * `drift_retry`, so a retried attempt never asks a third time and the reconciliation's count of
   * `success` calls stays one a picture).
   */
  async driftRetries(imageId: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(
      `select count(*)::int as count from qwen_calls where image_id = $1 and outcome = 'drift_retry'`,
      [imageId],
    );
    return rows[0]?.count ?? 0;
  }

  /** Micro-USD spent (or possibly spent) on Qwen since 00:00 UTC today. */
  async spendTodayMicroUsd(): Promise<number> {
    const { rows } = await this.pool.query<{ total: string }>(
      `select coalesce(sum(cost_micro_usd), 0)::text as total from qwen_calls
        where created_at >= (date_trunc('day', now() at time zone 'utc') at time zone 'utc')`,
    );
    return Number(rows[0]?.total ?? 0);
  }

  /** What the editor needs of a picture: whose it is, its job's preset and settings, and its stored files. */
  async loadEditable(imageId: string): Promise<EditableImage | null> {
    const { rows } = await this.pool.query<{
      job_id: string; user_id: string; filename: string; status: ImageStatus; pipeline: PipelineId; cutout_key: string | null;
      qwen_key: string | null; result_key: string | null; job_settings: Record<string, unknown> | null; edit_settings: Record<string, unknown> | null;
      compliance: ComplianceReport | null;
    }>(
      `select i.job_id, i.user_id, i.filename, i.status, j.pipeline, i.cutout_key, i.qwen_key, i.result_key,
              j.settings as job_settings, i.edit_settings, i.compliance
         from images i join jobs j on j.id = i.job_id where i.id = $1 and j.files_deleted_at is null`,
      [imageId],
    );
    const row = rows[0];
    return row
      ? {
          jobId: row.job_id, userId: row.user_id, filename: row.filename, status: row.status, pipeline: row.pipeline,
          cutoutKey: row.cutout_key, qwenKey: row.qwen_key, resultKey: row.result_key, jobSettings: row.job_settings, editSettings: row.edit_settings,
          compliance: row.compliance,
        }
      : null;
  }

  async replaceResult(imageId: string, result: Omit<FinishedImage, 'qwenKey' | 'cutoutKey' | 'reusedOutput'> & { editSettings: Record<string, unknown> }): Promise<void> {
    await this.pool.query(
      `update images set result_key = $2, output_name = $3, output_format = $4, output_width = $5, output_height = $6, output_bytes = $7,
              shadow_type = $8, compliance = $9, edit_settings = $10, updated_at = now()
        where id = $1 and status = 'done'`,
      [imageId, result.resultKey, result.outputName, result.outputFormat, result.width, result.height, result.bytes, result.shadowType,
        JSON.stringify(result.compliance), JSON.stringify(result.editSettings)],
    );
  }
}
