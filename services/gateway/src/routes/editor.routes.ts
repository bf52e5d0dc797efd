import { Router } from 'express';
import { z } from 'zod';
import { AppError, ErrorCode, parseInput } from '@masterpost/shared';
import type { EditQueue } from '../adapters/edit-queue';
import type { JobsRepository } from '../adapters/jobs.repository';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import { checkSettings } from '../services/settings';

/**
 * POST /api/v1/manual-editor/render: a finished picture rendered again with other settings
 * from its stored cutout: no AI call, no charge. Only its owner may (404 to anyone else).
 */
const renderBody = z.strictObject({ image_id: z.uuid(), settings: z.record(z.string(), z.unknown()).default({}) });

export function editorRoutes(deps: { jobs: JobsRepository; edits: EditQueue; authenticate: ReturnType<typeof requireUser> }): Router {
  const router = Router();
  router.post('/api/v1/manual-editor/render', deps.authenticate, async (req, res) => {
    const body = parseInput(renderBody, req.body);
    const userId = currentUser(req).sub;
    const image = await deps.jobs.findOwnedImage(body.image_id, userId);
    if (!image) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    const job = await deps.jobs.findOwned(image.job_id, userId);
    if (!job || !job.pipeline) throw new AppError(404, ErrorCode.NotFound, 'no such picture');
    if (job.files_deleted_at) throw new AppError(410, 'files_deleted', 'the pictures of this job were deleted after the retention period');
    if (image.status !== 'done' || !image.cutout_key) throw new AppError(409, ErrorCode.NotFinished, 'only a finished picture can be edited');
    checkSettings(job.pipeline, body.settings);
    try {
      await deps.edits.render(image.id, userId, body.settings, 20_000);
    } catch (error) {
      throw new AppError(503, ErrorCode.ServiceUnavailable, `the picture could not be rendered again right now: ${(error as Error).message}`);
    }
    res.json({ image_id: image.id, result_url: `/api/v1/images/${image.id}/result` });
  });
  return router;
}
