import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import { AppError, editRenderRequest, ErrorCode, parseInput, isUuid } from '@masterpost/contracts';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { EditorService } from '../services/editor.service';

/**
 * The manual editor's routes (EditorService does the work):
 * - POST /api/v1/manual-editor/render `{image_id, settings}`: other settings, from the stored cutout;
 * - POST /api/v1/manual-editor/mask, multipart `image_id`, `mask` (PNG, white = product, the
 *   shape of the picture's mask at GET /api/v1/images/:id/mask) and optional `settings` (JSON).
 */
const MASK_MAX_BYTES = 10 * 1024 * 1024;

export function editorRoutes(deps: { editor: EditorService; authenticate: ReturnType<typeof requireUser>; rateLimit: RequestHandler }): Router {
  const router = Router();

  router.post('/api/v1/manual-editor/render', deps.authenticate, deps.rateLimit, async (req, res) => {
    const body = parseInput(editRenderRequest, req.body);
    res.json(await deps.editor.render(currentUser(req).sub, body.image_id, body.settings));
  });

  router.post('/api/v1/manual-editor/mask', deps.authenticate, deps.rateLimit, receiveMask, async (req, res) => {
    const imageId = String(req.body?.image_id ?? '');
    if (!isUuid(imageId)) throw new AppError(400, ErrorCode.InvalidInput, 'image_id: must be the id of one of your pictures', { field: 'image_id' });
    const settings = parseSettingsField(req.body?.settings);
    res.json(await deps.editor.renderWithMask(currentUser(req).sub, imageId, settings, req.file?.buffer));
  });
  return router;
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
