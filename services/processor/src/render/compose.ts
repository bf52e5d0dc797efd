import type { Box } from './mask';
import type { ShadowLayer } from './shadows';

/**
 * Composing in integers over an RGB region (3 bytes a pixel, straight colours): the layers are
 * few and small against the canvas, and most of their pixels are fully opaque or fully clear,
 * which these loops pass over at once.
 */

/** `#rrggbb` as its three levels. */
export function parseHex(hex: string): [number, number, number] {
  return [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16)) as [number, number, number];
}

/** A region of the canvas, filled with its background colour (`#rrggbb`). */
export function filledRegion(region: Box, background: string): Buffer {
  const [r, g, b] = parseHex(background);
  const pixels = Buffer.alloc(region.width * region.height * 3, r);
  if (g !== r || b !== r) {
    for (let offset = 0; offset < pixels.length; offset += 3) {
      pixels[offset + 1] = g;
      pixels[offset + 2] = b;
    }
  }
  return pixels;
}

/** Straight RGBA `source` laid over the region at `at` (canvas coordinates, inside the region). */
export function composeOver(pixels: Buffer, region: Box, source: Buffer, at: Box): void {
  for (let y = 0; y < at.height; y++) {
    let target = ((at.top - region.top + y) * region.width + (at.left - region.left)) * 3;
    let offset = y * at.width * 4;
    for (let x = 0; x < at.width; x++, offset += 4, target += 3) {
      const alpha = source[offset + 3]!;
      if (alpha === 0) continue;
      if (alpha === 255) {
        pixels[target] = source[offset]!;
        pixels[target + 1] = source[offset + 1]!;
        pixels[target + 2] = source[offset + 2]!;
        continue;
      }
      const rest = 255 - alpha;
      pixels[target] = (source[offset]! * alpha + pixels[target]! * rest + 127) / 255;
      pixels[target + 1] = (source[offset + 1]! * alpha + pixels[target + 1]! * rest + 127) / 255;
      pixels[target + 2] = (source[offset + 2]! * alpha + pixels[target + 2]! * rest + 127) / 255;
    }
  }
}

/** A grey multiplied into the region (a shadow), or an RGBA layer laid over it (a reflection). */
export function composeLayer(pixels: Buffer, region: Box, layer: ShadowLayer): void {
  const at = { left: layer.left, top: layer.top, width: layer.raw.width, height: layer.raw.height };
  if (layer.blend === 'over') {
    composeOver(pixels, region, layer.input, at);
    return;
  }
  const grey = layer.input;
  for (let y = 0; y < at.height; y++) {
    let target = ((at.top - region.top + y) * region.width + (at.left - region.left)) * 3;
    let offset = y * at.width;
    for (let x = 0; x < at.width; x++, offset++, target += 3) {
      const level = grey[offset]!;
      if (level === 255) continue;
      pixels[target] = (pixels[target]! * level + 127) / 255;
      pixels[target + 1] = (pixels[target + 1]! * level + 127) / 255;
      pixels[target + 2] = (pixels[target + 2]! * level + 127) / 255;
    }
  }
}
