import { z } from 'zod';
import { pipelineIds, productPixelsModes } from './presets';

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

export const driftVerdicts = ['none', 'minor', 'major'] as const;
export type DriftVerdict = (typeof driftVerdicts)[number];

/**
 * How far the AI output's product strayed from the seller's photo (issue 20): the output is
 * registered to the photo (scale and shift, with the match's confidence), then compared inside
 * the product mask for colour (CIEDE2000), structure (SSIM on luminance) and detail (gradient
 * energy). `product_pixels` says whose pixels the delivered product carries, and why when it is
 * not the seller's.
 */
export const driftReport = z
  .strictObject({
    verdict: z.enum(driftVerdicts),
    registration: z.strictObject({ scale: z.number(), dx: z.number(), dy: z.number(), confidence: z.number() }),
    delta_e_mean: z.number(),
    delta_e_p95: z.number(),
    ssim: z.number(),
    /** Gradient energy of the output over the photo's, inside the mask, minus 1: below 0 detail was lost, above 0 added. */
    detail_change: z.number(),
    product_pixels: z.enum(productPixelsModes),
    product_pixels_reason: z.string().optional(),
    /** How many more paid calls drift caused (our cost, never the seller's). */
    retries: z.int(),
  })
  .meta({ id: 'DriftReport', description: 'How far the AI output drifted from the seller\'s photo, and whose pixels were delivered' });
export type DriftReport = z.infer<typeof driftReport>;

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
    /** Present once the fidelity check has run on the picture (absent on older pictures). */
    drift: driftReport.optional(),
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
