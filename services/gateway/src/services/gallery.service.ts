import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AppError, contentTypeOf, ErrorCode, extensionOf, storageKey, type GalleryItem, type GalleryList } from '@masterpost/contracts';
import type { Storage } from '@masterpost/platform';
import type { GalleryRepository, GalleryRow } from '../adapters/gallery.repository';
import type { JobsRepository } from '../adapters/jobs.repository';

/**
 * The landing page's before/after gallery: public to read; an operator adds an item from one of
 * their own finished pictures (a seller's photo is never published by someone else). Items hold
 * copies of both pictures, so no retention sweep or job deletion empties the gallery.
 */

export function galleryItem(row: GalleryRow): GalleryItem {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    pipeline: row.pipeline,
    original_url: `/api/v1/gallery/${row.id}/original`,
    processed_url: `/api/v1/gallery/${row.id}/processed`,
  };
}

export const galleryKey = (id: string, kind: 'original' | 'processed', format: string) => storageKey.gallery(id, kind, extensionOf(format));

export class GalleryService {
  constructor(private readonly deps: { gallery: GalleryRepository; jobs: JobsRepository; storage: Storage }) {}

  async list(): Promise<GalleryList> {
    const rows = await this.deps.gallery.latest(200);
    return { items: rows.map(galleryItem), total: rows.length };
  }

  async picture(id: string, kind: 'original' | 'processed'): Promise<{ contentType: string; body: Readable }> {
    const row = await this.deps.gallery.find(id);
    if (!row) throw new AppError(404, ErrorCode.NotFound, 'no such gallery picture');
    const [key, format] = kind === 'original' ? [row.original_key, row.original_format] : [row.processed_key, row.processed_format];
    return { contentType: contentTypeOf(format), body: this.deps.storage.stream(key) };
  }

  /** An operator's own finished picture, copied into the gallery. */
  async addFromOwnPicture(userId: string, input: { image_id: string; title: string; description: string }): Promise<GalleryItem> {
    const { jobs, storage } = this.deps;
    const image = await jobs.findOwnedImage(input.image_id, userId);
    if (!image) throw new AppError(404, ErrorCode.NotFound, 'no such picture among yours');
    if (image.status !== 'done' || !image.result_key) throw new AppError(409, ErrorCode.NotFinished, 'only a finished picture can go in the gallery');
    const job = await jobs.findOwned(image.job_id, userId);
    const id = randomUUID();
    const processedFormat = image.output_format ?? 'jpeg';
    const originalKey = galleryKey(id, 'original', image.source_format);
    const processedKey = galleryKey(id, 'processed', processedFormat);
    await storage.put(originalKey, await storage.get(image.upload_key));
    await storage.put(processedKey, await storage.get(image.result_key));
    const row = await this.deps.gallery.insert({
      id, title: input.title, description: input.description, pipeline: job?.pipeline ?? 'amazon',
      original_key: originalKey, original_format: image.source_format, processed_key: processedKey, processed_format: processedFormat, source_image_id: image.id,
    });
    return galleryItem(row);
  }
}
