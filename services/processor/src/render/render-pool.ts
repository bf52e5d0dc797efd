import path from 'node:path';
import { ThreadPool, type RenderSpec } from '@masterpost/shared';
import type { RenderRequest, RenderResult } from './render-thread';
import { NoProductFoundError, type RenderedPicture } from './render.service';

export interface Rendered {
  picture: RenderedPicture;
  cutoutPng: Buffer;
}

export type Renderer = (qwenOutput: Buffer, spec: RenderSpec) => Promise<Rendered>;

/** Renders on `threads` worker threads; the errors the handler tells apart keep their class. */
export function createRenderPool(threads: number): { render: Renderer; close: () => Promise<void> } {
  const pool = new ThreadPool<RenderRequest, RenderResult>(path.join(__dirname, 'render-thread.ts'), threads);
  const render: Renderer = async (qwenOutput, spec) => {
    try {
      const result = await pool.run({ qwenOutput, spec });
      return { picture: { ...result.picture, bytes: Buffer.from(result.picture.bytes) }, cutoutPng: Buffer.from(result.cutoutPng) };
    } catch (error) {
      if ((error as Error).name === 'NoProductFoundError') throw new NoProductFoundError();
      throw error;
    }
  };
  return { render, close: () => pool.close() };
}
