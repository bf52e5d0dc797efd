import { UnrecoverableError } from 'bullmq';
import { formatExtension, type EditRenderPayload, type JobName, type JobResult, mergeSettings, resolveRenderSpec, SettingsError, storageKey } from '@masterpost/contracts';
import { type Logger, type Storage } from '@masterpost/platform';
import type { ImagesRepository } from '../adapters/images.repository';
import type { Renderer } from '../render/render-pool';
import { NoProductFoundError } from '../render/render.service';
import { outputNameFor } from './image-process.handler';

/**
 * The manual editor. "render": a finished picture made again with other settings from the
 * cutout stored when it was first made. "mask" (a `maskKey` in the payload): the stored Qwen
 * output cut out again along the seller's mask, which becomes the new cutout and mask, then
 * rendered. Neither calls the AI or moves a credit: the picture was paid for once. The new
 * picture replaces the old one (in the result link and the ZIP). Settings build up: the job's,
 * then every edit's, so one change keeps the rest.
 */
export class EditRenderHandler {
  constructor(private readonly deps: { repo: ImagesRepository; storage: Storage; render: Renderer; logger: Logger }) {}

  async handle({ imageId, userId, settings, maskKey }: EditRenderPayload): Promise<JobResult<typeof JobName.EditRender>> {
    const image = await this.deps.repo.loadEditable(imageId);
    if (!image || image.userId !== userId || image.status !== 'done' || !image.cutoutKey || !image.qwenKey) {
      throw new UnrecoverableError('no finished picture to edit');
    }

    const editSettings = mergeSettings(image.editSettings, settings);
    let spec;
    try {
      spec = resolveRenderSpec(image.pipeline, mergeSettings(image.jobSettings, editSettings));
    } catch (error) {
      if (error instanceof SettingsError) throw new UnrecoverableError(error.message);
      throw error;
    }

    let picture;
    if (maskKey) {
      let rendered;
      try {
        rendered = await this.deps.render.withMask(await this.deps.storage.get(image.qwenKey), await this.deps.storage.get(maskKey), spec);
      } catch (error) {
        if (error instanceof NoProductFoundError) throw new UnrecoverableError('the mask marks no part of the picture as product');
        throw error;
      } finally {
        await this.deps.storage.deletePrefix(maskKey);
      }
      await this.deps.storage.put(image.cutoutKey, rendered.cutoutPng);
      await this.deps.storage.put(storageKey.mask(image.jobId, imageId), rendered.maskPng);
      picture = rendered.picture;
    } else {
      picture = (await this.deps.render.fromCutout(await this.deps.storage.get(image.cutoutKey), spec)).picture;
    }

    // The drift was measured against the AI output once; a new mask draws the product with the AI's pixels.
    const drift = image.compliance?.drift;
    if (drift) {
      const kept = maskKey ? { ...drift, product_pixels: 'ai' as const, product_pixels_reason: 'the mask was edited: the product is cut from the AI\'s picture along it' } : drift;
      picture = { ...picture, compliance: { ...picture.compliance, drift: kept } };
    }
    const extension = formatExtension[picture.format];
    const resultKey = storageKey.result(image.jobId, imageId, extension);
    await this.deps.storage.put(resultKey, picture.bytes);
    await this.deps.repo.replaceResult(imageId, {
      resultKey,
      outputName: outputNameFor(image.filename, extension),
      outputFormat: picture.format,
      width: picture.width,
      height: picture.height,
      bytes: picture.bytes.length,
      shadowType: spec.shadow.type === 'none' ? 'none' : picture.shadow,
      compliance: picture.compliance,
      editSettings,
    });
    // A picture now in another format leaves its old file behind otherwise.
    if (image.resultKey && image.resultKey !== resultKey) await this.deps.storage.deletePrefix(image.resultKey);
    return { resultKey, width: picture.width, height: picture.height, format: picture.format };
  }
}
