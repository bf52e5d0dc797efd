import sharp from 'sharp';
import { UnrecoverableError } from 'bullmq';
import { editRenderPayload, formatExtension, resolveRenderSpec, SettingsError, storageKey, type Logger, type Storage } from '@masterpost/shared';
import type { ImagesRepository } from '../adapters/images.repository';
import { renderFromCutout } from '../render/render.service';
import { outputNameFor } from './image-process.handler';

/**
 * The manual editor's "render": a finished picture made again with other settings from the
 * cutout stored when it was first made. No AI call and no credit movement: the picture was
 * paid for once. The new picture replaces the old one (in the result link and the ZIP).
 */
export class EditRenderHandler {
  constructor(private readonly deps: { repo: ImagesRepository; storage: Storage; logger: Logger }) {}

  async handle(data: unknown): Promise<{ resultKey: string; width: number; height: number; format: string }> {
    const parsed = editRenderPayload.safeParse(data);
    if (!parsed.success) throw new UnrecoverableError(`EditRender payload is invalid: ${parsed.error.message}`);
    const { imageId, userId, settings } = parsed.data;
    const image = await this.deps.repo.loadEditable(imageId);
    if (!image || image.userId !== userId || image.status !== 'done' || !image.cutoutKey) throw new UnrecoverableError('no finished picture to edit');

    let spec;
    try {
      spec = resolveRenderSpec(image.pipeline, settings);
    } catch (error) {
      if (error instanceof SettingsError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const { data: rgba, info } = await sharp(await this.deps.storage.get(image.cutoutKey)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const picture = await renderFromCutout({ data: rgba, width: info.width, height: info.height }, spec);
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
    });
    return { resultKey, width: picture.width, height: picture.height, format: picture.format };
  }
}
