import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type RequestHandler, Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { AppError, ErrorCode, creditsFor, maxAffordableImages, type UploadAnswer } from '@masterpost/contracts';
import { annotateSpan, currentTraceparent, traceRoute, type BillingClient } from '@masterpost/platform';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { IntakeService } from '../services/intake.service';

export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
}

/** Multer streams the body to disk under random names; limits stop the read as soon as one is passed. */
export function uploadsRoutes(deps: {
  intake: IntakeService;
  billing: BillingClient;
  authenticate: ReturnType<typeof requireUser>;
  rateLimit: RequestHandler;
  idempotent: RequestHandler;
  tempDir: string;
  limits: UploadLimits;
  creditsPerImage: number;
  qwenPerSecond: number;
  /** Where a job's trace is kept (tracing on): its process and download requests join the upload's trace. */
  traces?: { rememberTrace(jobId: string, traceparent: string | undefined): Promise<void> };
}): Router {
  mkdirSync(deps.tempDir, { recursive: true });
  const upload = multer({
    dest: path.resolve(deps.tempDir),
    limits: { fileSize: deps.limits.maxFileBytes, files: deps.limits.maxFiles, fields: 10, parts: deps.limits.maxFiles + 10, fieldSize: 64 * 1024 },
  }).array('files', deps.limits.maxFiles);

  // multer stops storing a file at its limit but answers only once the client has sent the
  // rest. A body declared larger than any allowed upload is refused before a byte of it is read.
  const largestUpload = deps.limits.maxFileBytes * deps.limits.maxFiles + 1024 * 1024;
  const receive = (req: Request, res: Response, next: NextFunction) => {
    const declared = Number(req.get('content-length') ?? 0);
    if (declared > largestUpload) {
      res.set('connection', 'close');
      next(new AppError(413, ErrorCode.UploadTooLarge, `the upload is ${declared} bytes; at most ${deps.limits.maxFiles} files of ${deps.limits.maxFileBytes} bytes each are accepted`));
      return;
    }
    upload(req, res, (error: unknown) => {
      if (!error) return next();
      if (error instanceof multer.MulterError) {
        const tooBig = error.code === 'LIMIT_FILE_SIZE';
        const tooMany = error.code === 'LIMIT_FILE_COUNT' || error.code === 'LIMIT_UNEXPECTED_FILE' || error.code === 'LIMIT_PART_COUNT';
        next(
          new AppError(
            tooBig ? 413 : 400,
            tooBig ? ErrorCode.UploadTooLarge : tooMany ? ErrorCode.TooManyFiles : ErrorCode.InvalidInput,
            tooBig
              ? `a file is larger than ${deps.limits.maxFileBytes} bytes`
              : error.code === 'LIMIT_UNEXPECTED_FILE'
                ? `upload files in the field "files", at most ${deps.limits.maxFiles} of them`
                : `the upload breaks a limit: ${error.message}`,
            { field: error.field ?? 'files' },
          ),
        );
        return;
      }
      next(new AppError(400, ErrorCode.InvalidInput, 'the upload is not a valid multipart/form-data body'));
    });
  };

  const router = Router();
  router.post('/api/v1/upload', deps.authenticate, traceRoute('upload'), deps.rateLimit, deps.idempotent, receive, async (req, res) => {
    const user = currentUser(req);
    const files = (req.files ?? []) as Express.Multer.File[];
    if (files.length === 0) throw new AppError(400, ErrorCode.NoImages, 'send at least one file in the field "files"', { field: 'files' });
    const { jobId, accepted, rejected } = await deps.intake.intake(user.sub, files);
    annotateSpan({ 'job.id': jobId, 'pictures.count': accepted.length });
    await deps.traces?.rememberTrace(jobId, currentTraceparent());
    const account = await deps.billing.account(user.sub);
    const answer: UploadAnswer = {
      job_id: jobId,
      files_count: accepted.length,
      files: accepted,
      rejected,
      estimate: {
        credits_needed: creditsFor(accepted.length, deps.creditsPerImage),
        credits_available: account.available,
        max_affordable_images: Math.min(accepted.length, maxAffordableImages(account.available, deps.creditsPerImage)),
        seconds: Math.ceil(accepted.length / deps.qwenPerSecond + 15),
      },
    };
    res.status(201).json(answer);
  });
  return router;
}
