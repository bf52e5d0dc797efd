import { randomBytes } from 'node:crypto';
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import sharp from 'sharp';
import { z } from 'zod';
import { AppError, ErrorCode, parseInput, storageKey, isUuid } from '@masterpost/contracts';
import { type Storage } from '@masterpost/platform';
import type { EditQueue } from '../adapters/edit-queue';
import type { JobsRepository } from '../adapters/jobs.repository';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import { checkSettings } from '../services/settings';

/**
 * The manual editor (docs/api.md). Both actions make a finished picture again on a processor,
 * with no AI call and no charge, and only for its owner (404 to anyone else):
 * - POST /api/v1/manual-editor/render `{image_id, settings}`: other settings, from the stored cutout;
 * - POST /api/v1/manual-editor/mask, multipart `image_id`, `mask` (PNG, white = product, the
 *   shape of the picture's mask at GET /api/v1/images/:id/mask) and optional `settings` (JSON):
 *   the product cut out along the seller's own mask (erase and restore strokes), then rendered.
 * The mask is stored under a name made from ids; nothing the client names reaches the disk.
 */
const renderBody = z.strictObject({ image_id: z.uuid(), settings: z.record(z.string(), z.unknown()).default({}) });

const MASK_MAX_BYTES = 10 * 1024 * 1024;
const MASK_MAX_PIXELS = 50_000_000;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Masks drawn over a scaled view come back scaled; their shape must still be the picture's. */
const ASPECT_TOLERANCE = 0.02;

interface EditorDeps {
  jobs: JobsRepository;
  edits: EditQueue;
  storage: Storage;
  authenticate: ReturnType<typeof requireUser>;
  rateLimit: RequestHandler;
}

export function editorRoutes(deps: EditorDeps): Router {
  const router = Router();
  const editable = editableImage(deps);

  router.post('/api/v1/manual-editor/render', deps.authenticate, deps.rateLimit, async (req, res) => {
    const body = parseInput(renderBody, req.body);
    const userId = currentUser(req).sub;
    const image = await editable(body.image_id, userId);
    checkSettings(image.pipeline, body.settings);
    await runEdit(deps.edits, image.id, userId, body.settings);
    res.json({ image_id: image.id, result_url: `/api/v1/images/${image.id}/result` });
  });

  router.post('/api/v1/manual-editor/mask', deps.authenticate, deps.rateLimit, receiveMask, async (req, res) => {
    const imageId = String(req.body?.image_id ?? '');
    if (!isUuid(imageId)) throw new AppError(400, ErrorCode.InvalidInput, 'image_id: must be the id of one of your pictures', { field: 'image_id' });
    const settings = parseSettingsField(req.body?.settings);
    const userId = currentUser(req).sub;
    const image = await editable(imageId, userId);
    checkSettings(image.pipeline, settings);
    const mask = req.file?.buffer;
    if (!mask) throw new AppError(400, ErrorCode.InvalidMask, 'mask: send the mask as a PNG file in the field "mask" (white = product)', { field: 'mask' });
    await checkMask(mask, deps.storage, storageKey.mask(image.jobId, image.id));

    const maskKey = storageKey.sentMask(image.jobId, image.id, randomBytes(8).toString('hex'));
    await deps.storage.put(maskKey, mask);
    await runEdit(deps.edits, image.id, userId, settings, maskKey);
    res.json({ image_id: image.id, result_url: `/api/v1/images/${image.id}/result`, mask_url: `/api/v1/images/${image.id}/mask` });
  });
  return router;
}

/** The picture, if it is the seller's, finished and still has its files; otherwise the answer why not. */
function editableImage(deps: EditorDeps) {
  return async (imageId: string, userId: string) => {
    const image = await deps.jobs.findOwnedImage(imageId, userId);
    if (!image) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    const job = await deps.jobs.findOwned(image.job_id, userId);
    if (!job || !job.pipeline) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    if (job.files_deleted_at) throw new AppError(410, 'files_deleted', 'the pictures of this job were deleted after the retention period');
    if (image.status !== 'done' || !image.cutout_key) throw new AppError(409, ErrorCode.NotFinished, 'only a finished picture can be edited');
    return { id: image.id, jobId: image.job_id, pipeline: job.pipeline };
  };
}

async function runEdit(edits: EditQueue, imageId: string, userId: string, settings: Record<string, unknown>, maskKey?: string): Promise<void> {
  try {
    await edits.render(imageId, userId, settings, 20_000, maskKey);
  } catch (error) {
    throw new AppError(503, ErrorCode.ServiceUnavailable, `the picture could not be made again right now: ${(error as Error).message}`);
  }
}

const maskUpload = multer({
  storage: multer.memoryStorage(),
  limits: { fileSize: MASK_MAX_BYTES, files: 1, fields: 3, parts: 4, fieldSize: 64 * 1024 },
}).single('mask');

function receiveMask(req: Request, res: Response, next: NextFunction): void {
  if (Number(req.get('content-length') ?? 0) > MASK_MAX_BYTES + 256 * 1024) {
    res.set('connection', 'close');
    next(new AppError(413, ErrorCode.UploadTooLarge, `mask: at most ${MASK_MAX_BYTES} bytes`, { field: 'mask' }));
    return;
  }
  maskUpload(req, res, (error: unknown) => {
    if (!error) return next();
    if (error instanceof multer.MulterError) {
      const tooBig = error.code === 'LIMIT_FILE_SIZE';
      next(
        new AppError(tooBig ? 413 : 400, tooBig ? ErrorCode.UploadTooLarge : ErrorCode.InvalidInput,
          tooBig ? `mask: at most ${MASK_MAX_BYTES} bytes` : `send image_id, one PNG in the field "mask" and optionally settings: ${error.message}`,
          { field: error.field ?? 'mask' }),
      );
      return;
    }
    next(error);
  });
}

function parseSettingsField(raw: unknown): Record<string, unknown> {
  if (raw === undefined || raw === '') return {};
  try {
    const parsed: unknown = JSON.parse(String(raw));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new AppError(400, ErrorCode.InvalidSettings, 'settings: must be a JSON object', { field: 'settings' });
}

/** A PNG, decodable, the picture's shape, and marking some of it as product. */
async function checkMask(mask: Buffer, storage: Storage, currentMaskKey: string): Promise<void> {
  const invalid = (message: string) => new AppError(400, ErrorCode.InvalidMask, `mask: ${message}`, { field: 'mask' });
  if (mask.length < PNG_SIGNATURE.length || !mask.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) throw invalid('must be a PNG image');
  let stats;
  let size;
  try {
    size = await sharp(mask, { limitInputPixels: MASK_MAX_PIXELS }).metadata();
    stats = await sharp(mask, { limitInputPixels: MASK_MAX_PIXELS }).flatten({ background: '#000000' }).greyscale().stats();
  } catch {
    throw invalid('the PNG could not be read');
  }
  if (await storage.exists(currentMaskKey)) {
    const current = await sharp(await storage.get(currentMaskKey)).metadata();
    const wanted = current.width! / current.height!;
    if (Math.abs(size.width! / size.height! - wanted) > wanted * ASPECT_TOLERANCE) {
      throw invalid(`must have the shape of the picture's mask, ${current.width}x${current.height} or a scaled copy; this one is ${size.width}x${size.height}`);
    }
  }
  if ((stats.channels[0]?.max ?? 0) < 128) throw invalid('marks nothing as product (white = product, black = background)');
}
