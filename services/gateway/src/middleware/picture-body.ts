import { createWriteStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { AppError, ErrorCode } from '@masterpost/contracts';
import type { UploadedFile } from '../services/intake.service';

/**
 * One picture's body, as multipart (the field `image`) or raw (the whole body, with its content
 * type), to a file of at most `maxBytes`. A body declared larger is refused 413 before a byte of
 * it is read, and the connection closed so the client stops sending; one that turns out larger
 * (chunked, or lying) is cut off at the limit the same way.
 */
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
  try {
    await streamPipeline(req, cap, createWriteStream(file));
    if (size === 0) throw new AppError(400, ErrorCode.NoImages, 'send the picture as the body (with its content type) or as the multipart field "image"', { field: 'image' });
  } catch (error) {
    // What was written of a refused body goes at once (an accepted one goes after the intake).
    await rm(file, { force: true });
    throw error;
  }
  return { originalname: `picture.${(req.get('content-type') ?? '').split('/')[1]?.split(';')[0] ?? 'bin'}`, path: file, size };
}

export function receivePicture(settings: { tempDir: string; maxBytes: number }): RequestHandler[] {
  const deps = { tempDir: settings.tempDir, maxPictureBytes: settings.maxBytes };
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

  return [refuseOversized, receive];
}
