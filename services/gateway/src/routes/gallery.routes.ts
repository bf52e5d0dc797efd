import { Router } from 'express';
import { AppError, ErrorCode, galleryAddRequest, parseInput, isUuid } from '@masterpost/contracts';
import { currentUser, requireOperator, type requireUser } from '../middleware/auth.middleware';
import type { GalleryService } from '../services/gallery.service';

/** The gallery's routes: reading is public, adding is for operators (GalleryService says how). */

export function galleryRoutes(deps: {
  gallery: GalleryService;
  operators: Parameters<typeof requireOperator>[0];
  authenticate: ReturnType<typeof requireUser>;
}): Router {
  const router = Router();

  router.get('/api/v1/gallery/all', async (_req, res) => {
    res.json(await deps.gallery.list());
  });

  router.get('/api/v1/gallery/:id/:kind', async (req, res) => {
    const id = String(req.params.id);
    const kind = String(req.params.kind);
    if (!isUuid(id) || (kind !== 'original' && kind !== 'processed')) throw new AppError(404, ErrorCode.NotFound, 'no such gallery picture');
    const picture = await deps.gallery.picture(id, kind);
    res.setHeader('content-type', picture.contentType);
    res.setHeader('cache-control', 'public, max-age=3600');
    picture.body.pipe(res);
  });

  router.post('/api/v1/gallery', deps.authenticate, requireOperator(deps.operators), async (req, res) => {
    res.status(201).json(await deps.gallery.addFromOwnPicture(currentUser(req).sub, parseInput(galleryAddRequest, req.body)));
  });
  return router;
}
