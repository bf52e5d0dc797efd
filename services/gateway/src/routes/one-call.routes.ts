import { rm } from 'node:fs/promises';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { AppError, contentTypeOf, ErrorCode } from '@masterpost/contracts';
import type { Storage } from '@masterpost/platform';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import { receivePicture } from '../middleware/picture-body';
import type { OneCallService, OnePicture } from '../services/one-call.service';

/**
 * POST /api/v1/pictures: one picture in one call, as multipart (`image`, and `pipeline`,
 * `settings` as JSON, `wait` as fields) or as the raw body with its content type (the same as
 * query parameters). The answer is the picture's bytes with what was charged and measured in
 * headers, or its record with `Accept: application/json`; past `wait` seconds, 202 with a
 * Location to poll (GET /api/v1/pictures/{id}, which waits too when asked).
 */
const MAX_WAIT_SECONDS = 300;

function waitSeconds(value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_WAIT_SECONDS) {
    throw new AppError(400, ErrorCode.InvalidInput, `wait: whole seconds from 0 to ${MAX_WAIT_SECONDS}`, { field: 'wait' });
  }
  return seconds;
}

function jsonField(value: unknown, field: string): unknown {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new AppError(400, ErrorCode.InvalidSettings, `${field}: not valid JSON`, { field });
  }
}

/** A repeat under the same Idempotency-Key answers this picture as it is then: no second job. */
function remember(res: Response, pictureId: string): void {
  (res.locals.rememberIdempotent as ((value: unknown) => void) | undefined)?.({ picture_id: pictureId });
}

/**
 * Aborted when the client hangs up, so a long wait stops polling for nobody. The answer's
 * 'close' (not the request's, which closes once its body is read) says the connection went.
 */
function closedSignal(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** The picture's bytes with what it is and cost in headers, its record as JSON, 202 while it is made, 422 if it failed. */
async function sendPicture(req: Request, res: Response, picture: OnePicture, storage: Storage): Promise<void> {
  const { record } = picture;
  remember(res, record.picture_id);
  res.set({ 'x-picture-id': record.picture_id, 'x-credits-charged': String(record.credits_charged), 'cache-control': 'no-store' });
  if (record.status === 'failed' || record.status === 'cancelled') {
    throw new AppError(422, ErrorCode.PictureFailed, `the picture could not be made: ${record.error?.message ?? record.status}; nothing was charged`, {
      picture_id: record.picture_id,
      reason: record.error,
    });
  }
  if (!picture.resultKey) {
    res.status(202).set({ location: record.location, 'retry-after': '5' }).json(record);
    return;
  }
  res.set({
    'x-width': String(record.width ?? ''),
    'x-height': String(record.height ?? ''),
    'x-coverage': String(record.compliance?.coverage ?? ''),
    'x-compliance': record.compliance?.passed ? 'pass' : 'fail',
    'x-shadow': record.shadow ?? '',
  });
  if (req.accepts(['image/*', 'application/json']) === 'application/json') {
    res.json(record);
    return;
  }
  const bytes = await storage.get(picture.resultKey);
  res.status(200).type(contentTypeOf(picture.outputFormat ?? 'jpeg')).set('content-length', String(bytes.length)).send(bytes);
}

export function oneCallRoutes(deps: {
  oneCall: OneCallService;
  storage: Storage;
  authenticate: ReturnType<typeof requireUser>;
  rateLimit: RequestHandler;
  /** Idempotency-Key support; a repeat is answered from the picture it made. */
  idempotent: (replay: (req: Request, res: Response, remembered: unknown) => Promise<void>) => RequestHandler;
  tempDir: string;
  maxPictureBytes: number;
}): Router {
  const answer = (req: Request, res: Response, picture: OnePicture) => sendPicture(req, res, picture, deps.storage);
  const idempotent = deps.idempotent(async (req, res, remembered) => {
    const pictureId = (remembered as { picture_id?: string } | null)?.picture_id ?? '';
    await answer(req, res, await deps.oneCall.wait(currentUser(req).sub, pictureId, 0));
  });
  const router = Router();
  router.post('/api/v1/pictures', deps.authenticate, deps.rateLimit, idempotent, ...receivePicture({ tempDir: deps.tempDir, maxBytes: deps.maxPictureBytes }), async (req, res) => {
    if (!req.file) throw new AppError(400, ErrorCode.NoImages, 'send the picture as the multipart field "image", or as the body with its content type', { field: 'image' });
    const file = { originalname: req.file.originalname, path: req.file.path, size: req.file.size };
    const fields = req.is('multipart/form-data') ? (req.body as Record<string, unknown>) : (req.query as Record<string, unknown>);
    let request;
    try {
      request = { settings: jsonField(fields.settings, 'settings'), wait: waitSeconds(fields.wait, 60) };
    } catch (error) {
      // Refused before the intake, which otherwise removes the received file.
      await rm(file.path, { force: true });
      throw error;
    }
    const picture = await deps.oneCall.create(currentUser(req).sub, file, { pipeline: fields.pipeline, settings: request.settings }, request.wait, {
      onQueued: (pictureId) => remember(res, pictureId),
      signal: closedSignal(res),
    });
    await answer(req, res, picture);
  });
  router.get('/api/v1/pictures/:pictureId', deps.authenticate, deps.rateLimit, async (req, res) => {
    const wait = waitSeconds(req.query.wait, 0);
    await answer(req, res, await deps.oneCall.wait(currentUser(req).sub, String(req.params.pictureId), wait, closedSignal(res)));
  });
  return router;
}
