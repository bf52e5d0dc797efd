import { randomBytes } from 'node:crypto';
import { AppError, ErrorCode, storageKey, type EditedPicture, type PipelineId } from '@masterpost/contracts';
import { brightestGrey, readPictureHeader, type Storage } from '@masterpost/platform';
import type { EditQueue } from '../adapters/edit-queue';
import type { JobsRepository } from '../adapters/jobs.repository';
import { checkSettings } from './settings';

/**
 * The manual editor's work (docs/api.md): a finished picture made again on a processor, with no
 * AI call and no charge, and only for its owner (404 to anyone else), either with other settings
 * from its stored cutout, or cut out along a mask the seller painted (erase and restore strokes).
 * The mask is stored under a name made from ids; nothing the client names reaches the disk.
 */
const MASK_MAX_PIXELS = 50_000_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Masks drawn over a scaled view come back scaled; their shape must still be the picture's. */
const ASPECT_TOLERANCE = 0.02;

export class EditorService {
  constructor(private readonly deps: { jobs: JobsRepository; edits: EditQueue; storage: Storage }) {}

  async render(userId: string, imageId: string, settings: Record<string, unknown>): Promise<EditedPicture> {
    const image = await this.editable(imageId, userId);
    checkSettings(image.pipeline, settings);
    await this.run(image.id, userId, settings);
    return { image_id: image.id, result_url: `/api/v1/images/${image.id}/result` };
  }

  async renderWithMask(userId: string, imageId: string, settings: Record<string, unknown>, mask: Buffer | undefined): Promise<EditedPicture> {
    const image = await this.editable(imageId, userId);
    checkSettings(image.pipeline, settings);
    if (!mask) throw new AppError(400, ErrorCode.InvalidMask, 'mask: send the mask as a PNG file in the field "mask" (white = product)', { field: 'mask' });
    await checkMask(mask, this.deps.storage, storageKey.mask(image.jobId, image.id));
    const maskKey = storageKey.sentMask(image.jobId, image.id, randomBytes(8).toString('hex'));
    await this.deps.storage.put(maskKey, mask);
    await this.run(image.id, userId, settings, maskKey);
    return { image_id: image.id, result_url: `/api/v1/images/${image.id}/result`, mask_url: `/api/v1/images/${image.id}/mask` };
  }

  /** The picture, if it is the seller's, finished and still has its files; otherwise the answer why not. */
  private async editable(imageId: string, userId: string): Promise<{ id: string; jobId: string; pipeline: PipelineId }> {
    const image = await this.deps.jobs.findOwnedImage(imageId, userId);
    if (!image) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    const job = await this.deps.jobs.findOwned(image.job_id, userId);
    if (!job || !job.pipeline) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    if (job.files_deleted_at) throw new AppError(410, ErrorCode.FilesDeleted, 'the pictures of this job were deleted after the retention period');
    if (image.status !== 'done' || !image.cutout_key) throw new AppError(409, ErrorCode.NotFinished, 'only a finished picture can be edited');
    return { id: image.id, jobId: image.job_id, pipeline: job.pipeline };
  }

  private async run(imageId: string, userId: string, settings: Record<string, unknown>, maskKey?: string): Promise<void> {
    try {
      await this.deps.edits.render(imageId, userId, settings, maskKey);
    } catch (error) {
      throw new AppError(503, ErrorCode.ServiceUnavailable, `the picture could not be made again right now: ${(error as Error).message}`);
    }
  }
}

/** A PNG, decodable, the picture's shape, and marking some of it as product. */
async function checkMask(mask: Buffer, storage: Storage, currentMaskKey: string): Promise<void> {
  const invalid = (message: string) => new AppError(400, ErrorCode.InvalidMask, `mask: ${message}`, { field: 'mask' });
  if (mask.length < PNG_SIGNATURE.length || !mask.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) throw invalid('must be a PNG image');
  let brightest;
  let size;
  try {
    size = await readPictureHeader(mask, MASK_MAX_PIXELS);
    brightest = await brightestGrey(mask, MASK_MAX_PIXELS);
  } catch {
    throw invalid('the PNG could not be read');
  }
  if (await storage.exists(currentMaskKey)) {
    const current = await readPictureHeader(await storage.get(currentMaskKey));
    const wanted = current.width / current.height;
    if (Math.abs(size.width / size.height - wanted) > wanted * ASPECT_TOLERANCE) {
      throw invalid(`must have the shape of the picture's mask, ${current.width}x${current.height} or a scaled copy; this one is ${size.width}x${size.height}`);
    }
  }
  if (brightest < 128) throw invalid('marks nothing as product (white = product, black = background)');
}
