import { cutoutFromAlpha, type Matted } from '../render/matte';
import { nonZeroBox } from './levels';
import type { Transform } from './register';

/**
 * `original` compositing: the cutout is cut from the seller's (prepared) photo, in the photo's
 * own geometry, so every product pixel is the seller's, not resampled. Qwen decides only what is
 * product: its matted alpha (edges as today) is carried into the photo's geometry through the
 * registration, and the edge band takes the photo's colour just inside, as a seller's mask does.
 */
export function cutoutFromPhoto(
  photo: { rgb: Uint8Array; width: number; height: number },
  alpha: Uint8Array, outputWidth: number, outputHeight: number, t: Transform,
): Matted | null {
  const { width, height } = photo;
  const warped = new Uint8Array(width * height);
  const box = nonZeroBox(alpha, outputWidth, outputHeight);
  if (!box) return null;
  // Only photo pixels that land next to the alpha's non-zero box can take any alpha (a pixel's
  // four neighbours are all 0 elsewhere): the rows and columns that do, a pixel wider for rounding.
  const yFrom = Math.max(0, Math.floor((box.top - 1 - t.dy + 0.5) / t.scale - 0.5) - 1);
  const yTo = Math.min(height, Math.ceil((box.bottom - t.dy + 0.5) / t.scale - 0.5) + 2);
  const xFrom = Math.max(0, Math.floor((box.left - 1 - t.dx + 0.5) / t.scale - 0.5) - 1);
  const xTo = Math.min(width, Math.ceil((box.right - t.dx + 0.5) / t.scale - 0.5) + 2);
  // Photo pixel centre (x + 0.5) -> output continuous position -> output pixel index space (-0.5).
  for (let y = yFrom; y < yTo; y++) {
    const v = t.scale * (y + 0.5) + t.dy - 0.5;
    if (v < 0 || v > outputHeight - 1) continue;
    const y0 = Math.min(outputHeight - 2, Math.floor(v));
    const fy = v - y0;
    for (let x = xFrom; x < xTo; x++) {
      const u = t.scale * (x + 0.5) + t.dx - 0.5;
      if (u < 0 || u > outputWidth - 1) continue;
      const x0 = Math.min(outputWidth - 2, Math.floor(u));
      const at = y0 * outputWidth + x0;
      const a00 = alpha[at]!;
      const a01 = alpha[at + 1]!;
      const a10 = alpha[at + outputWidth]!;
      const a11 = alpha[at + outputWidth + 1]!;
      if ((a00 | a01 | a10 | a11) === 0) continue;
      const fx = u - x0;
      const top = a00 + (a01 - a00) * fx;
      const bottom = a10 + (a11 - a10) * fx;
      warped[y * width + x] = Math.round(top + (bottom - top) * fy);
    }
  }
  return cutoutFromAlpha({ rgb: photo.rgb, channels: 3, width, height }, warped);
}
