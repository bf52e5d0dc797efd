import { createHash } from 'node:crypto';
import path from 'node:path';
import { UnrecoverableError } from 'bullmq';
import {
  formatExtension, imageProcessPayload, ledgerReference, resolveRenderSpec, SettingsError, storageKey,
  type BillingClient, type Logger, type Storage,
} from '@masterpost/shared';
import type { ImageContext, ImagesRepository } from '../adapters/images.repository';
import type { ProcessorMetrics } from '../metrics';
import type { FleetGate } from '../qwen/fleet-gate';
import { prepareQwenInput, UnusableInputError } from '../qwen/prepare-input';
import { promptFor } from '../qwen/prompts';
import type { QwenClient } from '../qwen/qwen.client';
import { QwenError } from '../qwen/qwen.errors';
import { cutoutToPng, NoProductFoundError, renderFromQwenOutput } from '../render/render.service';

/**
 * ImageProcess: one seller photo to one marketplace picture. Load, skip if already ended,
 * get Qwen's output (stored first, reused by retries and by re-uploads of the same photo),
 * render, store, mark done, charge. Errors are classified by the worker, never swallowed here.
 */
export interface ImageProcessDeps {
  repo: ImagesRepository;
  storage: Storage;
  qwen: QwenClient;
  gate: FleetGate;
  billing: BillingClient;
  metrics: ProcessorMetrics;
  pricesMicroUsd: Record<string, number>;
  publishProgress: (jobId: string) => Promise<void>;
  logger: Logger;
}

/** A failure that is the seller's photo's, not a glitch: the image fails at once. */
export class PermanentImageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentImageError';
  }
}

export function outputNameFor(filename: string, extension: string): string {
  const base = path.basename(filename).replace(/\.[^.]*$/, '') || 'image';
  return `${base}.${extension}`;
}

/** Qwen's output depends on the photo, the model and the preset's prompt, nothing else. */
export function qwenCacheKey(contentSha256: string, model: string, pipeline: string, promptVersion: string): string {
  return createHash('sha256').update(`${contentSha256}\n${model}\n${pipeline}\n${promptVersion}`).digest('hex');
}

/** Qwen output size: the input's aspect, longest side 2048 (the most the models give), sides 512..2048. */
export function requestedOutputSize(width: number, height: number): { width: number; height: number } {
  const clamp = (value: number) => Math.max(512, Math.min(2048, Math.round(value)));
  return width >= height ? { width: 2048, height: clamp((2048 * height) / width) } : { width: clamp((2048 * width) / height), height: 2048 };
}

export class ImageProcessHandler {
  constructor(private readonly deps: ImageProcessDeps) {}

  async handle(data: unknown): Promise<{ status: string }> {
    const parsed = imageProcessPayload.safeParse(data);
    if (!parsed.success) throw new UnrecoverableError(`ImageProcess payload is invalid: ${parsed.error.message}`);
    const { imageId, jobId } = parsed.data;
    const context = await this.deps.repo.load(imageId);
    if (!context || context.jobId !== jobId) return { status: 'missing' };
    if (context.jobStatus === 'cancelled' || ['done', 'failed', 'cancelled'].includes(context.imageStatus)) {
      return { status: `skipped:${context.imageStatus}` };
    }

    let spec;
    try {
      spec = resolveRenderSpec(context.pipeline, context.settings);
    } catch (error) {
      if (error instanceof SettingsError) throw new PermanentImageError('invalid_settings', error.message);
      throw error;
    }
    await this.deps.repo.markProcessing(imageId, jobId);
    await this.deps.publishProgress(jobId);

    const qwenKey = await this.obtainQwenOutput(context);
    const qwenOutput = await this.deps.storage.get(qwenKey);

    const stopTimer = this.deps.metrics.renderSeconds.startTimer();
    let rendered;
    try {
      rendered = await renderFromQwenOutput(qwenOutput, spec);
    } catch (error) {
      if (error instanceof NoProductFoundError) throw new PermanentImageError('no_product_found', 'No product could be found in this photo. It was not charged.');
      throw error;
    } finally {
      stopTimer();
    }
    const extension = formatExtension[rendered.picture.format];
    const cutoutKey = storageKey.cutout(jobId, imageId);
    const resultKey = storageKey.result(jobId, imageId, extension);
    await this.deps.storage.put(cutoutKey, await cutoutToPng(rendered.cutout));
    await this.deps.storage.put(resultKey, rendered.picture.bytes);

    const marked = await this.deps.repo.markDone(imageId, {
      qwenKey,
      cutoutKey,
      resultKey,
      outputName: outputNameFor(context.filename, extension),
      outputFormat: rendered.picture.format,
      width: rendered.picture.width,
      height: rendered.picture.height,
      bytes: rendered.picture.bytes.length,
      shadowType: spec.shadow.type === 'none' ? 'none' : rendered.picture.shadow,
      compliance: rendered.picture.compliance,
    });
    if (marked) {
      // Delivered, so charged: the same settlement reference as a release, so never both.
      await this.deps.billing.capture({
        holdReference: context.holdReference,
        amount: context.creditsPerImage,
        reference: ledgerReference.imageSettlement(imageId),
        description: `Picture ${context.filename}`,
      });
      this.deps.metrics.images.inc({ status: 'done' });
    }
    await this.deps.publishProgress(jobId);
    return { status: 'done' };
  }

  /** Returns the storage key of Qwen's output for this image, calling Qwen only if no stored output exists. */
  private async obtainQwenOutput(context: ImageContext): Promise<string> {
    const { storage, qwen, gate, repo } = this.deps;
    const key = storageKey.qwenOutput(context.jobId, context.imageId);
    if (await storage.exists(key)) return key;

    const prompt = promptFor(context.pipeline);
    const cacheKey = storageKey.qwenCache(context.userId, qwenCacheKey(context.contentSha256, qwen.model, context.pipeline, prompt.version));
    if (await storage.exists(cacheKey)) {
      await storage.put(key, await storage.get(cacheKey));
      await repo.setQwenKey(context.imageId, key);
      return key;
    }

    let input;
    try {
      input = await prepareQwenInput(await storage.get(context.uploadKey));
    } catch (error) {
      if (error instanceof UnusableInputError) throw new PermanentImageError('unusable_image', error.message);
      throw error;
    }

    const lease = await gate.acquire();
    const started = Date.now();
    let result;
    try {
      result = await qwen.edit({
        image: input.bytes,
        mime: input.mime,
        prompt: prompt.text,
        negativePrompt: prompt.negative,
        size: requestedOutputSize(input.width, input.height),
      });
    } catch (error) {
      const latencyMs = Date.now() - started;
      if (error instanceof QwenError) {
        this.deps.metrics.qwenCalls.inc({ outcome: error.kind });
        if (error.kind === 'throttle') this.deps.metrics.qwenThrottled.inc();
        await repo.recordQwenCall({
          imageId: context.imageId, requestId: error.requestId, model: qwen.model, outcome: error.possiblyBilled ? 'timeout' : error.kind,
          httpStatus: error.httpStatus, errorCode: error.code, latencyMs,
          costMicroUsd: error.possiblyBilled ? (this.deps.pricesMicroUsd[qwen.model] ?? 0) : 0,
        });
      }
      throw error;
    } finally {
      await gate.release(lease);
    }
    const latencyMs = Date.now() - started;
    const cost = this.deps.pricesMicroUsd[qwen.model] ?? 0;
    this.deps.metrics.qwenCalls.inc({ outcome: 'success' });
    this.deps.metrics.qwenLatency.observe(latencyMs / 1000);
    this.deps.metrics.qwenSpend.inc(cost);
    await repo.recordQwenCall({
      imageId: context.imageId, requestId: result.requestId, model: qwen.model, outcome: 'success', httpStatus: 200, errorCode: null,
      latencyMs, costMicroUsd: cost,
    });
    // Paid for: store it before anything else can go wrong, so no retry pays again.
    const output = await qwen.download(result.resultUrl);
    await storage.put(key, output);
    await storage.put(cacheKey, output);
    await repo.setQwenKey(context.imageId, key);
    return key;
  }
}
