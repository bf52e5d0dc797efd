import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import multer from 'multer';
import { AppError, contentTypeOf, ErrorCode } from '@masterpost/contracts';
import type { Storage } from '@masterpost/platform';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { UploadedFile } from '../services/intake.service';
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

function tooLarge(maxBytes: number): AppError {
  return new AppError(413, ErrorCode.UploadTooLarge, `a picture may be at most ${maxBytes} bytes`, { field: 'image' });
}

/** The raw body to a file, at most `maxBytes` of it. */
async function receiveRaw(req: Request, tempDir: string, maxBytes: number): Promise<UploadedFile> {
  const file = path.join(tempDir, `raw-${randomUUID()}`);
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > maxBytes ? tooLarge(maxBytes) : null, chunk);
    },
  });
  await streamPipeline(req, cap, createWriteStream(file));
  if (size === 0) throw new AppError(400, ErrorCode.NoImages, 'send the picture as the body (with its content type) or as the multipart field "image"', { field: 'image' });
  return { originalname: `picture.${(req.get('content-type') ?? '').split('/')[1]?.split(';')[0] ?? 'bin'}`, path: file, size };
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
  mkdirSync(deps.tempDir, { recursive: true });
  const multipart = multer({ dest: path.resolve(deps.tempDir), limits: { fileSize: deps.maxPictureBytes, files: 1, fields: 10, fieldSize: 64 * 1024 } }).single('image');

  // A body declared larger than any picture is refused before a byte of it is read, and the
  // connection closed so the client stops sending.
  const refuseOversized = (req: Request, res: Response, next: NextFunction) => {
    if (Number(req.get('content-length') ?? 0) > deps.maxPictureBytes + 64 * 1024) {
      res.set('connection', 'close');
      return next(tooLarge(deps.maxPictureBytes));
    }
    next();
  };
  const receive = (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('multipart/form-data')) {
      receiveRaw(req, deps.tempDir, deps.maxPictureBytes).then((file) => {
        req.file = { ...file, fieldname: 'image' } as Express.Multer.File;
        next();
      }, (error: unknown) => {
        if (error instanceof AppError && error.status === 413) res.set('connection', 'close');
        next(error);
      });
      return;
    }
    multipart(req, res, (error: unknown) => {
      if (!error) return next();
      if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') {
        res.set('connection', 'close');
        return next(tooLarge(deps.maxPictureBytes));
      }
      if (error instanceof multer.MulterError) return next(new AppError(400, ErrorCode.InvalidInput, `send one picture in the field "image": ${error.message}`, { field: error.field ?? 'image' }));
      next(new AppError(400, ErrorCode.InvalidInput, 'the body is not a valid multipart/form-data body'));
    });
  };

  const answer = async (req: Request, res: Response, picture: OnePicture) => {
    const { record } = picture;
    // A repeat under the same Idempotency-Key answers this picture as it is then: no second job.
    (res.locals.rememberIdempotent as ((value: unknown) => void) | undefined)?.({ picture_id: record.picture_id });
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
    const bytes = await deps.storage.get(picture.resultKey);
    res.status(200).type(contentTypeOf(picture.outputFormat ?? 'jpeg')).set('content-length', String(bytes.length)).send(bytes);
  };

  const idempotent = deps.idempotent(async (req, res, remembered) => {
    const pictureId = (remembered as { picture_id?: string } | null)?.picture_id ?? '';
    await answer(req, res, await deps.oneCall.wait(currentUser(req).sub, pictureId, 0));
  });
  const router = Router();
  router.post('/api/v1/pictures', deps.authenticate, deps.rateLimit, idempotent, refuseOversized, receive, async (req, res) => {
    if (!req.file) throw new AppError(400, ErrorCode.NoImages, 'send the picture as the multipart field "image", or as the body with its content type', { field: 'image' });
    const fields = req.is('multipart/form-data') ? (req.body as Record<string, unknown>) : (req.query as Record<string, unknown>);
    const picture = await deps.oneCall.create(
      currentUser(req).sub,
      { originalname: req.file.originalname, path: req.file.path, size: req.file.size },
      { pipeline: fields.pipeline, settings: jsonField(fields.settings, 'settings') },
      waitSeconds(fields.wait, 60),
    );
    await answer(req, res, picture);
  });
  router.get('/api/v1/pictures/:pictureId', deps.authenticate, async (req, res) => {
    await answer(req, res, await deps.oneCall.wait(currentUser(req).sub, String(req.params.pictureId), waitSeconds(req.query.wait, 0)));
  });
  return router;
}
