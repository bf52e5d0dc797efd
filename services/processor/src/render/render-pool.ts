import path from 'node:path';
import { type RenderSpec } from '@masterpost/contracts';
import { ThreadPool } from '@masterpost/platform';
import type { FidelityRequest } from '../fidelity/fidelity';
import type { RenderRequest, RenderResult } from './render-thread';
import { NoProductFoundError, type RenderedPicture } from './render.service';

export interface Rendered {
  picture: RenderedPicture;
}
export interface RenderedWithCutout extends Rendered {
  cutoutPng: Buffer;
  maskPng: Buffer;
}

/** The three renders, each on a worker thread. */
export interface Renderer {
  /**
   * The pipeline: a Qwen output, with the seller's photo to tell holes from white parts and,
   * with a fidelity request, to measure drift and carry the seller's pixels.
   */
  fromQwenOutput(qwenOutput: Buffer, original: Buffer | undefined, spec: RenderSpec, fidelity?: FidelityRequest): Promise<RenderedWithCutout>;
  /** The editor's render: a stored cutout with other settings. */
  fromCutout(cutoutPng: Buffer, spec: RenderSpec): Promise<Rendered>;
  /** The editor's mask: a Qwen output cut out along the seller's mask. */
  withMask(qwenOutput: Buffer, mask: Buffer, spec: RenderSpec): Promise<RenderedWithCutout>;
}

export function createRenderPool(threads: number): { render: Renderer; close: () => Promise<void> } {
  const pool = new ThreadPool<RenderRequest, RenderResult>(path.join(__dirname, 'render-thread.ts'), threads);
  // The errors the handlers tell apart keep their class across the thread boundary.
  const run = async (request: RenderRequest): Promise<RenderResult> => {
    try {
      return await pool.run(request);
    } catch (error) {
      if ((error as Error).name === 'NoProductFoundError') throw new NoProductFoundError();
      throw error;
    }
  };
  const picture = (result: RenderResult): RenderedPicture => ({ ...result.picture, bytes: Buffer.from(result.picture.bytes) });
  const withCutout = (result: RenderResult): RenderedWithCutout => {
    if (!result.cutoutPng || !result.maskPng) throw new Error('the render thread made no cutout');
    return { picture: picture(result), cutoutPng: Buffer.from(result.cutoutPng), maskPng: Buffer.from(result.maskPng) };
  };
  const render: Renderer = {
    fromQwenOutput: async (qwenOutput, original, spec, fidelity) =>
      withCutout(await run({ kind: 'qwen', qwenOutput, ...(original ? { original } : {}), spec, ...(fidelity ? { fidelity } : {}) })),
    fromCutout: async (cutoutPng, spec) => ({ picture: picture(await run({ kind: 'cutout', cutoutPng, spec })) }),
    withMask: async (qwenOutput, mask, spec) => withCutout(await run({ kind: 'mask', qwenOutput, mask, spec })),
  };
  return { render, close: () => pool.close() };
}
