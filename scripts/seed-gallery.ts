import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { resolveRenderSpec, type PipelineId } from '@masterpost/contracts';
import { createPool, LocalStorage } from '@masterpost/platform';
import { productPhoto } from './product-photo';
import { renderFromQwenOutput } from '../services/processor/src/render/render.service';
import { GalleryRepository } from '../services/gateway/src/adapters/gallery.repository';
import { galleryKey } from '../services/gateway/src/services/gallery.service';
import { whitenBackground } from '../tools/dashscope-sim/src/model';

/**
 * Seeds the landing page's gallery with generated before/after examples when it is empty (the
 * "AI" step is the local stand-in's). `npm start` runs it; in production, operators add real
 * examples from their own finished pictures instead.
 */
const EXAMPLES: Array<{ title: string; description: string; pipeline: PipelineId; colour: string; shape: 'box' | 'bottle' | 'disc' }> = [
  { title: 'Bottle for Amazon', description: 'Grey studio backdrop to pure white, product at 85% of a 2000 px square.', pipeline: 'amazon', colour: '#c0392b', shape: 'bottle' },
  { title: 'Box for Instagram', description: 'A soft drop shadow on a 1080 px square.', pipeline: 'instagram', colour: '#1f618d', shape: 'box' },
  { title: 'Plate for Etsy', description: 'A natural shadow under the base, inside the thumbnail-safe area.', pipeline: 'etsy', colour: '#7d6608', shape: 'disc' },
];

export async function seedGallery(databaseUrl: string, storageDir: string): Promise<number> {
  const pool = createPool(databaseUrl);
  try {
    const gallery = new GalleryRepository(pool);
    if ((await gallery.count()) > 0) return 0;
    const storage = new LocalStorage(storageDir);
    for (const example of EXAMPLES) {
      const original = await productPhoto({ width: 1200, height: 1200, colour: example.colour, shape: example.shape });
      const qwen = (await whitenBackground(original, { noise: 3, tolerance: 40, outputSize: { width: 1024, height: 1024 } })).png;
      const { picture } = await renderFromQwenOutput(qwen, resolveRenderSpec(example.pipeline, {}));
      const id = randomUUID();
      const originalKey = galleryKey(id, 'original', 'jpeg');
      const processedKey = galleryKey(id, 'processed', picture.format);
      await storage.put(originalKey, await sharp(original).jpeg({ quality: 85 }).toBuffer());
      await storage.put(processedKey, picture.bytes);
      await gallery.insert({
        id, title: example.title, description: example.description, pipeline: example.pipeline,
        original_key: originalKey, original_format: 'jpeg', processed_key: processedKey, processed_format: picture.format, source_image_id: null,
      });
    }
    return EXAMPLES.length;
  } finally {
    await pool.end();
  }
}
