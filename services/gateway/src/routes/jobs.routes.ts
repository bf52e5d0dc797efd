import { type RequestHandler, Router, type Request, type Response } from 'express';
import { AppError, ErrorCode, jobListQuery, parseInput } from '@masterpost/contracts';
import { annotateSpan, traceRoute } from '@masterpost/platform';
import type { ProgressHub } from '../adapters/progress-hub';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { DownloadService } from '../services/download.service';
import type { JobsService } from '../services/jobs.service';
import { pictureKinds, type PictureKind, type PicturesService } from '../services/pictures.service';
import { streamProgress } from './progress-stream';

export function jobsRoutes(deps: {
  service: JobsService;
  pictures: PicturesService;
  downloads: DownloadService;
  hub: ProgressHub;
  authenticate: ReturnType<typeof requireUser>;
  processRateLimit: RequestHandler;
  idempotent: RequestHandler;
  /** A job's trace (its upload's), which its process and download requests join. */
  traces?: { jobTrace(jobId: string): Promise<string | undefined> };
}): Router {
  const router = Router();
  const { service } = deps;
  const jobTrace = (jobId: unknown) => (typeof jobId === 'string' && deps.traces ? deps.traces.jobTrace(jobId) : Promise.resolve(undefined));

  router.post('/api/v1/process', deps.authenticate, traceRoute('process', (req) => jobTrace((req.body as { job_id?: unknown } | undefined)?.job_id)), deps.processRateLimit, deps.idempotent, async (req, res) => {
    const answer = await service.process(currentUser(req).sub, req.body);
    annotateSpan({ 'job.id': answer.job_id, 'pictures.count': answer.images });
    res.status(202).json(answer);
  });

  router.get('/api/v1/jobs', deps.authenticate, async (req, res) => {
    res.json(await service.list(currentUser(req).sub, parseInput(jobListQuery, req.query)));
  });

  router.get('/api/v1/progress/:jobId', deps.authenticate, async (req, res) => {
    res.json(await service.progress(currentUser(req).sub, String(req.params.jobId)));
  });

  /** Server-sent events: `progress` on every change, then `done` (progress-stream.ts). */
  router.get('/api/v1/progress/:jobId/stream', deps.authenticate, async (req: Request, res: Response) => {
    const userId = currentUser(req).sub;
    const jobId = String(req.params.jobId);
    await service.ownedJob(jobId, userId);
    await streamProgress(res, jobId, { hub: deps.hub, read: () => service.progress(userId, jobId), onClose: (stop) => req.on('close', stop) });
  });

  router.post('/api/v1/jobs/:jobId/cancel', deps.authenticate, async (req, res) => {
    res.json(await service.cancel(currentUser(req).sub, String(req.params.jobId)));
  });

  router.delete('/api/v1/jobs/:jobId', deps.authenticate, async (req, res) => {
    res.json(await service.remove(currentUser(req).sub, String(req.params.jobId)));
  });

  router.get('/api/v1/download/:jobId', deps.authenticate, traceRoute('download', (req) => jobTrace(req.params.jobId)), async (req, res) => {
    const zip = await deps.downloads.jobZip(currentUser(req).sub, String(req.params.jobId));
    res.writeHead(200, { 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${zip.filename}"`, 'cache-control': 'no-store' });
    await zip.write(res);
  });

  router.get('/api/v1/images/:imageId/:kind', deps.authenticate, async (req, res) => {
    const kind = String(req.params.kind);
    if (!(pictureKinds as readonly string[]).includes(kind)) throw new AppError(404, ErrorCode.NotFound, 'no such route');
    const file = await deps.pictures.file(currentUser(req).sub, String(req.params.imageId), kind as PictureKind);
    res.setHeader('content-type', file.contentType);
    res.setHeader('cache-control', file.cacheControl);
    res.setHeader('content-length', String(file.size));
    file.body.pipe(res);
  });

  return router;
}
