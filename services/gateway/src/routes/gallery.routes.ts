import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { AppError, ErrorCode, parseInput } from '@masterpost/contracts';
import { type Pool, type Storage } from '@masterpost/platform';
import type { JobsRepository } from '../adapters/jobs.repository';
import { currentUser, requireOperator, type requireUser } from '../middleware/auth.middleware';
import { CONTENT_TYPES, EXTENSIONS, UUID } from './media';

/**
 * The landing page's before/after gallery: public to read; an operator adds an item from one of
 * their own finished pictures (a seller's photo is never published by someone else). Items hold
 * copies of both pictures, so no retention sweep or job deletion empties the gallery.
 */
const addBody = z.strictObject({ image_id: z.uuid(), title: z.string().trim().min(1).max(120), description: z.string().trim().max(500).default('') });

interface GalleryRow {
  id: string;
  title: string;
  description: string;
  pipeline: string;
  original_key: string;
  original_format: string;
  processed_key: string;
  processed_format: string;
}

export const galleryKey = (id: string, kind: 'original' | 'processed', format: string) => `gallery/${id}/${kind}.${EXTENSIONS[format] ?? 'bin'}`;

export function galleryRoutes(deps: {
  pool: Pool;
  jobs: JobsRepository;
  storage: Storage;
  operators: Parameters<typeof requireOperator>[0];
  authenticate: ReturnType<typeof requireUser>;
}): Router {
  const router = Router();
  const item = (row: GalleryRow) => ({
    id: row.id,
    title: row.title,
    description: row.description,
    pipeline: row.pipeline,
    original_url: `/api/v1/gallery/${row.id}/original`,
    processed_url: `/api/v1/gallery/${row.id}/processed`,
  });

  router.get('/api/v1/gallery/all', async (_req, res) => {
    const { rows } = await deps.pool.query<GalleryRow>('select * from gallery_items order by created_at desc limit 200');
    res.json({ items: rows.map(item), total: rows.length });
  });

  router.get('/api/v1/gallery/:id/:kind', async (req, res) => {
    const id = String(req.params.id);
    const kind = String(req.params.kind);
    if (!UUID.test(id) || !['original', 'processed'].includes(kind)) throw new AppError(404, ErrorCode.NotFound, 'no such gallery picture');
    const { rows } = await deps.pool.query<GalleryRow>('select * from gallery_items where id = $1', [id]);
    const row = rows[0];
    if (!row) throw new AppError(404, ErrorCode.NotFound, 'no such gallery picture');
    const [key, format] = kind === 'original' ? [row.original_key, row.original_format] : [row.processed_key, row.processed_format];
    res.setHeader('content-type', CONTENT_TYPES[format] ?? 'application/octet-stream');
    res.setHeader('cache-control', 'public, max-age=3600');
    deps.storage.stream(key).pipe(res);
  });

  router.post('/api/v1/gallery', deps.authenticate, requireOperator(deps.operators), async (req, res) => {
    const body = parseInput(addBody, req.body);
    const image = await deps.jobs.findOwnedImage(body.image_id, currentUser(req).sub);
    if (!image) throw new AppError(404, ErrorCode.NotFound, 'no such picture among yours');
    if (image.status !== 'done' || !image.result_key) throw new AppError(409, ErrorCode.NotFinished, 'only a finished picture can go in the gallery');
    const job = await deps.jobs.findOwned(image.job_id, currentUser(req).sub);
    const id = randomUUID();
    const processedFormat = image.output_format ?? 'jpeg';
    const originalKey = galleryKey(id, 'original', image.source_format);
    const processedKey = galleryKey(id, 'processed', processedFormat);
    await deps.storage.put(originalKey, await deps.storage.get(image.upload_key));
    await deps.storage.put(processedKey, await deps.storage.get(image.result_key));
    const { rows } = await deps.pool.query<GalleryRow>(
      `insert into gallery_items (id, title, description, pipeline, original_key, original_format, processed_key, processed_format, source_image_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *`,
      [id, body.title, body.description, job?.pipeline ?? 'amazon', originalKey, image.source_format, processedKey, processedFormat, image.id],
    );
    res.status(201).json(item(rows[0]!));
  });
  return router;
}
