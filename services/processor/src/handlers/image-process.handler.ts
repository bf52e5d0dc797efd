import path from 'node:path';
import { ENDED_IMAGE_STATUSES, formatExtension, resolveRenderSpec, SettingsError, storageKey, type ImageProcessPayload, type JobName, type JobResult, type RenderSpec } from '@masterpost/contracts';
import { withSpan, type Logger, type Storage } from '@masterpost/platform';
import type { ImageContext, ImagesRepository } from '../adapters/images.repository';
import type { ProcessorMetrics } from '../metrics';
import { PermanentImageError } from '../image-errors';
import type { QwenOutput, QwenOutputService } from '../qwen/qwen-output.service';
import type { Renderer } from '../render/render-pool';
import { NoProductFoundError } from '../render/render.service';
import type { ImageSettlement } from '../settlement/image-settlement';
import { defaultDriftThresholds, type DriftThresholds } from '../fidelity/drift';
import type { RenderedWithCutout } from '../render/render-pool';

/**
 * ImageProcess: one seller photo to one marketplace picture. Load, skip if already ended or
 * cancelled, get Qwen's output (QwenOutputService: paid for at most once), render, store, mark
 * done, settle (ImageSettlement: charged unless it reused an output the seller already paid
 * for). Only a charged picture's output becomes reusable for free. Work whose job was deleted
 * meanwhile leaves no file behind. Errors are classified by the worker, never swallowed here.
 */
export interface ImageProcessDeps {
  repo: ImagesRepository;
  storage: Storage;
  qwenOutputs: QwenOutputService;
  render: Renderer;
  settlement: ImageSettlement;
  metrics: ProcessorMetrics;
  publishProgress: (jobId: string) => Promise<void>;
  logger: Logger;
  /** The drift limits (config DRIFT_*; the defaults when absent); the job's settings say what a `major` verdict does. */
  driftThresholds?: DriftThresholds;
}

export const PRODUCT_DRIFT = 'product_drift';

export function outputNameFor(filename: string, extension: string): string {
  const base = path.basename(filename).replace(/\.[^.]*$/, '') || 'image';
  return `${base}.${extension}`;
}

export class ImageProcessHandler {
  constructor(private readonly deps: ImageProcessDeps) {}

  private async render(qwen: QwenOutput, original: Buffer, spec: RenderSpec, context: ImageContext, retries: number): Promise<RenderedWithCutout> {
    const qwenOutput = await this.deps.storage.get(qwen.key);
    const productPixels = context.settings?.product_pixels;
    const stopTimer = this.deps.metrics.renderSeconds.startTimer();
    try {
      return await withSpan('render', { 'image.id': context.imageId, 'render.retries': retries }, () =>
        this.deps.render.fromQwenOutput(qwenOutput, original, spec, {
          ...(productPixels ? { productPixels } : {}),
          thresholds: this.deps.driftThresholds ?? defaultDriftThresholds,
          retries,
        }),
      );
    } catch (error) {
      if (error instanceof NoProductFoundError) throw new PermanentImageError('no_product_found', 'No product could be found in this photo. It was not charged.');
      throw error;
    } finally {
      stopTimer();
    }
  }

  async handle({ imageId, jobId }: ImageProcessPayload): Promise<JobResult<typeof JobName.ImageProcess>> {
    const context = await this.deps.repo.load(imageId);
    if (!context) {
      await this.deps.settlement.removeIfJobDeleted(jobId);
      return { status: 'missing' };
    }
    if (context.jobId !== jobId) return { status: 'missing' };
    if (ENDED_IMAGE_STATUSES.includes(context.imageStatus)) {
      // Ended, but perhaps not settled (billing did not answer the attempt that ended it): settling is idempotent.
      const outcome = await this.deps.settlement.settle(imageId);
      // Paid for now: as after an uninterrupted attempt, the output becomes free to reuse.
      if (outcome === 'charged' && !context.reusedOutput) await this.deps.qwenOutputs.remember(context, storageKey.qwenOutput(jobId, imageId));
      return { status: `skipped:${context.imageStatus}` };
    }
    // Only a job that holds a reservation is worked on: not a cancelled one, nor one whose
    // enqueue was undone (its reservation returned) after the queue took it after all.
    if (context.jobStatus !== 'queued' && context.jobStatus !== 'processing') return { status: `skipped:job_${context.jobStatus}` };

    let spec;
    try {
      spec = resolveRenderSpec(context.pipeline, context.settings);
    } catch (error) {
      if (error instanceof SettingsError) throw new PermanentImageError('invalid_settings', error.message);
      throw error;
    }
    // Cancelled or deleted since it was loaded: no paid call for it.
    if (!(await this.deps.repo.markProcessing(imageId, jobId))) return { status: 'skipped:not_pending' };
    await this.deps.publishProgress(jobId);

    const asked = Date.now();
    const qwen = await withSpan('qwen.call', { 'image.id': imageId }, async (span) => {
      const output = await this.deps.qwenOutputs.obtain(context);
      span.setAttribute('qwen.reused', output.reused);
      return output;
    });
    // The Qwen step's line: it names the request (and, tracing on, the trace) that queued the picture.
    this.deps.logger.info({ imageId, jobId, reused: qwen.reused, ms: Date.now() - asked }, 'qwen output obtained');
    try {
      return await this.finish(context, spec, qwen);
    } catch (error) {
      // Deleted while it was being made (its upload gone with it): nothing to retry, nothing to keep.
      if (await this.deps.settlement.removeIfJobDeleted(jobId)) return { status: 'not_delivered' };
      throw error;
    } finally {
      // Held until the output is remembered (or not): identical photos wait for it, not pay for it.
      await qwen.releaseTwin();
    }
  }

  private async finish(context: ImageContext, spec: RenderSpec, qwen: QwenOutput): Promise<{ status: string }> {
    const { imageId, jobId } = context;
    // The seller's photo shows what lies behind the product (a hole, or a white part) and is what drift is measured against.
    const original = await this.deps.storage.get(context.uploadKey);
    let retries = await this.deps.repo.driftRetries(imageId);
    let rendered = await this.render(qwen, original, spec, context, retries);
    const onMajorDrift = context.settings?.on_major_drift ?? 'deliver';
    if (rendered.picture.compliance.drift?.verdict === 'major' && onMajorDrift !== 'deliver') {
      // Asked once more, at our cost; a retried attempt of this job finds the retry recorded and never asks a third time.
      if (onMajorDrift === 'retry' && retries === 0) {
        this.deps.logger.info({ imageId, drift: rendered.picture.compliance.drift }, 'the AI output drifted from the photo; asking once more');
        await withSpan('qwen.call', { 'image.id': imageId, 'qwen.drift_retry': true }, () => this.deps.qwenOutputs.callAgainForDrift(context));
        retries = await this.deps.repo.driftRetries(imageId);
        rendered = await this.render(qwen, original, spec, context, retries);
      }
      const drift = rendered.picture.compliance.drift;
      if (onMajorDrift === 'fail' && drift?.verdict === 'major') {
        throw new PermanentImageError(PRODUCT_DRIFT, `The AI changed the product too much to deliver it as yours (colour difference ΔE ${drift.delta_e_mean.toFixed(1)} on average, ${drift.delta_e_p95.toFixed(1)} at worst; structure ${drift.ssim.toFixed(2)} of 1). It was not charged.`);
      }
    }
    const drift = rendered.picture.compliance.drift;
    if (drift) this.deps.metrics.driftVerdicts.inc({ verdict: drift.verdict, product_pixels: drift.product_pixels });

    const extension = formatExtension[rendered.picture.format];
    const cutoutKey = storageKey.cutout(jobId, imageId);
    const resultKey = storageKey.result(jobId, imageId, extension);
    await this.deps.storage.put(cutoutKey, rendered.cutoutPng);
    await this.deps.storage.put(storageKey.mask(jobId, imageId), rendered.maskPng);
    await this.deps.storage.put(resultKey, rendered.picture.bytes);

    const marked = await this.deps.repo.markDone(imageId, {
      qwenKey: qwen.key,
      cutoutKey,
      resultKey,
      outputName: outputNameFor(context.filename, extension),
      outputFormat: rendered.picture.format,
      width: rendered.picture.width,
      height: rendered.picture.height,
      bytes: rendered.picture.bytes.length,
      shadowType: spec.shadow.type === 'none' ? 'none' : rendered.picture.shadow,
      compliance: rendered.picture.compliance,
      reusedOutput: qwen.reused,
    });
    if (!marked) {
      // Its job was deleted while it was at the AI: what this attempt wrote goes too.
      await this.deps.settlement.removeIfJobDeleted(jobId);
      return { status: 'not_delivered' };
    }
    const outcome = await this.deps.settlement.settle(imageId);
    // The seller paid for this output: the same photo sent again is made from it, free.
    if (outcome === 'charged' && !qwen.reused) await this.deps.qwenOutputs.remember(context, qwen.key);
    this.deps.metrics.images.inc({ status: outcome === 'charged' ? 'done' : qwen.reused ? 'done_reused' : outcome });
    await this.deps.publishProgress(jobId);
    return { status: outcome === 'undelivered' ? 'undelivered' : 'done' };
  }
}
