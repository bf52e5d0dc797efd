import { z } from 'zod';
import { pipelineIds } from './presets';

/**
 * The states a job and a picture go through, and the compliance report a finished picture
 * carries: written by the processor, read by the gateway, shown by the API. One definition so
 * the two services' repositories cannot disagree on a table's meaning.
 */
export const jobStatuses = ['uploaded', 'queued', 'processing', 'completed', 'completed_with_errors', 'failed', 'cancelled'] as const;
export const jobStatus = z.enum(jobStatuses);
export type JobStatus = z.infer<typeof jobStatus>;
/** A job in one of these changes no more. */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];
export const isTerminalJobStatus = (status: JobStatus): boolean => TERMINAL_JOB_STATUSES.includes(status);

export const imageStatuses = ['pending', 'processing', 'done', 'failed', 'cancelled'] as const;
export const imageStatus = z.enum(imageStatuses);
export type ImageStatus = z.infer<typeof imageStatus>;
/** A picture in one of these is not worked on again (it may still be settled). */
export const ENDED_IMAGE_STATUSES: readonly ImageStatus[] = ['done', 'failed', 'cancelled'];

export const pipelineId = z.enum(pipelineIds);

export const complianceRule = z.strictObject({
  rule: z.enum(['size', 'format', 'max_bytes', 'pure_white_border', 'background_border', 'coverage']),
  pass: z.boolean(),
  expected: z.string(),
  actual: z.string(),
});
export type ComplianceRule = z.infer<typeof complianceRule>;

/** What a marketplace would check, measured on the bytes delivered (docs/marketplaces.md). */
export const complianceReport = z
  .strictObject({
    pipeline: z.string(),
    width: z.int(),
    height: z.int(),
    format: z.string(),
    bytes: z.int(),
    pure_white_border: z.boolean(),
    /** Share of the canvas the product's bounding box covers (0-1). */
    coverage: z.number(),
    rules: z.array(complianceRule),
    passed: z.boolean(),
  })
  .meta({ id: 'ComplianceReport', description: 'What a marketplace would check, measured on the delivered bytes' });
export type ComplianceReport = z.infer<typeof complianceReport>;

/** The `jobs` table as both services read it. */
export interface JobRecord {
  id: string;
  user_id: string;
  status: JobStatus;
  pipeline: z.infer<typeof pipelineId> | null;
  settings: Record<string, unknown> | null;
  credits_per_image: number;
  hold_reference: string | null;
  attempt_nonce: string | null;
  finished_at: Date | null;
  /** Set when the retention sweep deleted the job's files. */
  files_deleted_at: Date | null;
}

/** The `images` table as both services read it. */
export interface ImageRecord {
  id: string;
  job_id: string;
  user_id: string;
  position: number;
  filename: string;
  upload_key: string;
  content_sha256: string;
  source_format: string;
  status: ImageStatus;
  error_code: string | null;
  error_message: string | null;
  result_key: string | null;
  cutout_key: string | null;
  qwen_key: string | null;
  output_name: string | null;
  output_format: string | null;
  output_width: number | null;
  output_height: number | null;
  shadow_type: string | null;
  compliance: ComplianceReport | null;
  /** Made from an output this seller already paid for: delivered free. */
  reused_output: boolean;
  /** What the ledger took for it, recorded from the ledger's answer. */
  credits_charged: number;
}
