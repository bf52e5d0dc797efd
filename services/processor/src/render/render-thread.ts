import sharp from 'sharp';
import { type RenderSpec } from '@masterpost/contracts';
import { serveOnThread } from '@masterpost/platform';
import type { FidelityRequest } from '../fidelity/fidelity';
import { cutoutFromPng, cutoutToPng, extractProduct, extractWithMask, renderFromCutout, withDrift, type RenderedPicture } from './render.service';

/**
 * Rendering on a worker thread: decoding, the mask's passes (JavaScript, over a reduced copy
 * and the edge band) and encoding cost a tenth to a quarter of a second of CPU a picture. Off
 * the main thread, the processor keeps renewing its job locks and sends rate-limited calls when
 * their slot comes.
 *
 * Three requests: a Qwen output (the pipeline; the seller's photo tells holes from white
 * parts), a stored cutout (the editor's render) and a Qwen output with a seller's mask (the
 * editor's mask).
 */
export type RenderRequest =
  | { kind: 'qwen'; qwenOutput: Uint8Array; original?: Uint8Array; spec: RenderSpec; fidelity?: FidelityRequest }
  | { kind: 'cutout'; cutoutPng: Uint8Array; spec: RenderSpec }
  | { kind: 'mask'; qwenOutput: Uint8Array; mask: Uint8Array; spec: RenderSpec };

export interface RenderResult {
  picture: Omit<RenderedPicture, 'bytes'> & { bytes: Uint8Array };
  /** A new cutout and mask, when the request made one. */
  cutoutPng?: Uint8Array;
  maskPng?: Uint8Array;
}

// Each thread has its own libvips cache; nothing is decoded twice, so it would only hold memory.
sharp.cache(false);

serveOnThread<RenderRequest, RenderResult>(async (request) => {
  if (request.kind === 'cutout') {
    return { picture: await renderFromCutout(await cutoutFromPng(Buffer.from(request.cutoutPng)), request.spec) };
  }
  const extracted =
    request.kind === 'qwen'
      ? await extractProduct(Buffer.from(request.qwenOutput), request.original ? Buffer.from(request.original) : undefined, request.fidelity)
      : await extractWithMask(Buffer.from(request.qwenOutput), Buffer.from(request.mask));
  const picture = withDrift(await renderFromCutout(extracted.cutout, request.spec), extracted.drift);
  return { picture, cutoutPng: await cutoutToPng(extracted.cutout), maskPng: extracted.maskPng };
});
