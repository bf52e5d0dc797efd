import type { ImageRecord, JobRecord, JobSettings, PipelineId } from '@masterpost/contracts';
import { withTransaction, type Pool } from '@masterpost/platform';

export interface NewImage {
  id: string;
  filename: string;
  uploadKey: string;
  contentSha256: string;
  sourceFormat: string;
  width: number;
  height: number;
  bytes: number;
}

export type JobRow = JobRecord;
/** What the gateway reads of a picture (the table is described once, in the contracts). */
export type ImageRow = Pick<
  ImageRecord,
  | 'id' | 'position' | 'filename' | 'upload_key' | 'source_format' | 'status' | 'error_code' | 'error_message' | 'result_key' | 'cutout_key'
  | 'output_name' | 'output_format' | 'output_width' | 'output_height' | 'shadow_type' | 'compliance' | 'reused_output' | 'credits_charged'
>;

/**
 * A finished picture counts as delivered (shown done, downloadable, editable) only once its
 * charge is decided: charged, or free as a reuse. Until then it reads as still processing, so
 * nothing is handed over that the ledger might yet refuse to charge.
 */
const IMAGE_COLUMNS = `id, position, filename, upload_key, source_format,
  case when status = 'done' and credits_charged = 0 and not reused_output then 'processing' else status end as status,
  error_code, error_message, result_key, cutout_key,
  output_name, output_format, output_width, output_height, shadow_type, compliance, reused_output, credits_charged`;

/** One row of a seller's job list: the job and its pictures counted by state. */
export interface JobSummaryRow {
  id: string;
  status: JobRecord['status'];
  pipeline: JobRecord['pipeline'];
  created_at: Date;
  finished_at: Date | null;
  files_deleted_at: Date | null;
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  credits_charged: number;
}

/** Where a page of the job list starts: after this job, in (created_at, id) descending order. */
export interface JobListPosition {
  createdAt: Date;
  id: string;
}

export class JobsRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * A page of the seller's jobs, newest first (keyset paging on the jobs_user index). A picture
   * counts as completed by the same rule as IMAGE_COLUMNS: done and its charge decided.
   */
  async pageOwned(userId: string, limit: number, after: JobListPosition | null): Promise<JobSummaryRow[]> {
    const { rows } = await this.pool.query<JobSummaryRow>(
      `select j.id, j.status, j.pipeline, j.created_at, j.finished_at, j.files_deleted_at,
              count(i.id)::int as total,
              (count(i.id) filter (where i.status = 'done' and (i.credits_charged > 0 or i.reused_output)))::int as completed,
              (count(i.id) filter (where i.status = 'failed'))::int as failed,
              (count(i.id) filter (where i.status = 'cancelled'))::int as cancelled,
              coalesce(sum(i.credits_charged), 0)::int as credits_charged
         from jobs j left join images i on i.job_id = j.id
        where j.user_id = $1 and ($2::timestamptz is null or (j.created_at, j.id) < ($2::timestamptz, $3::uuid))
        group by j.id
        order by j.created_at desc, j.id desc
        limit $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  }

  async createWithImages(jobId: string, userId: string, creditsPerImage: number, images: NewImage[]): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query('insert into jobs (id, user_id, credits_per_image) values ($1, $2, $3)', [jobId, userId, creditsPerImage]);
      for (const [position, image] of images.entries()) {
        await client.query(
          `insert into images (id, job_id, user_id, position, filename, upload_key, content_sha256, source_format, width, height, bytes)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [image.id, jobId, userId, position, image.filename, image.uploadKey, image.contentSha256, image.sourceFormat, image.width, image.height, image.bytes],
        );
      }
    });
  }

  /** A job of this user, or null: callers answer 404 either way, so nobody learns another user's ids. */
  async findOwned(jobId: string, userId: string): Promise<JobRow | null> {
    const { rows } = await this.pool.query<JobRow>(
      `select id, user_id, status, pipeline, settings, credits_per_image, hold_reference, attempt_nonce, finished_at, files_deleted_at
         from jobs where id = $1 and user_id = $2`,
      [jobId, userId],
    );
    return rows[0] ?? null;
  }

  async images(jobId: string): Promise<ImageRow[]> {
    const { rows } = await this.pool.query<ImageRow>(`select ${IMAGE_COLUMNS} from images where job_id = $1 order by position`, [jobId]);
    return rows;
  }

  async findOwnedImage(imageId: string, userId: string): Promise<(ImageRow & { job_id: string }) | null> {
    const { rows } = await this.pool.query<ImageRow & { job_id: string }>(
      `select ${IMAGE_COLUMNS}, job_id from images where id = $1 and user_id = $2`,
      [imageId, userId],
    );
    return rows[0] ?? null;
  }

  /** A picture of this user with what its job says of it (one query: the one-call route polls this). */
  async findOwnedImageWithJob(imageId: string, userId: string): Promise<(ImageRow & { job_id: string; pipeline: JobRecord['pipeline']; job_finished_at: Date | null }) | null> {
    const { rows } = await this.pool.query<ImageRow & { job_id: string; pipeline: JobRecord['pipeline']; job_finished_at: Date | null }>(
      `select i.*, j.pipeline, j.finished_at as job_finished_at
         from (select ${IMAGE_COLUMNS}, job_id from images where id = $1 and user_id = $2) i join jobs j on j.id = i.job_id`,
      [imageId, userId],
    );
    return rows[0] ?? null;
  }

  /**
   * Claims an uploaded job for processing: only one request can move it out of 'uploaded',
   * so a double click cannot reserve credits twice.
   */
  async claimForProcessing(jobId: string, userId: string, pipeline: PipelineId, settings: JobSettings, holdReference: string, nonce: string): Promise<boolean> {
    const result = await this.pool.query(
      `update jobs set status = 'queued', pipeline = $3, settings = $4, hold_reference = $5, attempt_nonce = $6,
              queued_at = now(), updated_at = now()
        where id = $1 and user_id = $2 and status = 'uploaded'`,
      [jobId, userId, pipeline, JSON.stringify(settings), holdReference, nonce],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Undoes a claim whose credits could not be reserved or whose enqueue failed. */
  async unclaim(jobId: string): Promise<void> {
    await this.pool.query(
      `update jobs set status = 'uploaded', hold_reference = null, attempt_nonce = null, queued_at = null, updated_at = now()
        where id = $1 and status = 'queued'`,
      [jobId],
    );
  }

  /** Cancels a job and its images not yet started; returns the ids of the images cancelled. */
  async cancel(jobId: string): Promise<string[] | null> {
    return withTransaction(this.pool, async (client) => {
      const job = await client.query(
        `update jobs set status = 'cancelled', updated_at = now(),
                finished_at = case when status = 'uploaded' then now() else finished_at end
          where id = $1 and status in ('uploaded', 'queued', 'processing') returning id`,
        [jobId],
      );
      if (job.rowCount === 0) return null;
      const images = await client.query<{ id: string }>(
        `update images set status = 'cancelled', error_code = 'cancelled', error_message = 'Cancelled before processing: not charged.',
                finished_at = now(), updated_at = now()
          where job_id = $1 and status = 'pending' returning id`,
        [jobId],
      );
      return images.rows.map((row) => row.id);
    });
  }

  /** Removes a job and its images (the ledger keeps its own records of what was charged). */
  async delete(jobId: string): Promise<void> {
    await this.pool.query('delete from jobs where id = $1', [jobId]);
  }
}
