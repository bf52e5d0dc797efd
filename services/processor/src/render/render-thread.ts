import sharp from 'sharp';
import { serveOnThread, type RenderSpec } from '@masterpost/shared';
import { cutoutToPng, renderFromQwenOutput, type RenderedPicture } from './render.service';

/**
 * Rendering on a worker thread: the cut-out and shadow passes are plain JavaScript over
 * millions of pixels (a quarter to nearly a second a picture). Off the main thread, the
 * processor keeps renewing its job locks and sends rate-limited calls when their slot comes.
 */
export interface RenderRequest {
  qwenOutput: Uint8Array;
  spec: RenderSpec;
}
export interface RenderResult {
  picture: Omit<RenderedPicture, 'bytes'> & { bytes: Uint8Array };
  cutoutPng: Uint8Array;
}

// Each thread has its own libvips cache; nothing is decoded twice, so it would only hold memory.
sharp.cache(false);

serveOnThread<RenderRequest, RenderResult>(async ({ qwenOutput, spec }) => {
  const { picture, cutout } = await renderFromQwenOutput(Buffer.from(qwenOutput), spec);
  return { picture, cutoutPng: await cutoutToPng(cutout) };
});
