import sharp from 'sharp';
import type { ConcreteShadowType, ShadowSpec } from '@masterpost/shared';
import type { Box } from './mask';

/**
 * The four shadow styles of docs/marketplaces.md, each drawn from the placed product's alpha:
 * drop (offset, blurred silhouette), natural (a soft contact ellipse under the base) and
 * reflection (a mirrored copy fading below the base). `auto` picks by the product's shape.
 */
export function chooseShadow(spec: ShadowSpec, productWidth: number, productHeight: number): ConcreteShadowType {
  if (spec.type !== 'auto') return spec.type;
  const aspect = productWidth / productHeight;
  if (aspect >= 1.6) return 'natural';
  if (aspect <= 0.6) return 'reflection';
  return 'drop';
}

export interface ShadowLayer {
  input: Buffer;
  raw: { width: number; height: number; channels: 4 };
  left: number;
  top: number;
}

interface Canvas {
  width: number;
  height: number;
}

/** Clips a layer to the canvas: sharp refuses composites that overflow it. */
async function blackLayer(alpha: Uint8Array, box: Box, canvas: Canvas, sigma: number): Promise<ShadowLayer | null> {
  let blurred: Uint8Array = alpha;
  if (sigma >= 0.3) {
    blurred = await sharp(Buffer.from(alpha.buffer, alpha.byteOffset, alpha.length), { raw: { width: box.width, height: box.height, channels: 1 } })
      .blur(sigma)
      // sharp widens one-channel input to sRGB; take one channel back or rows come out striped.
      .extractChannel(0)
      .raw()
      .toBuffer();
  }
  const left = Math.max(0, box.left);
  const top = Math.max(0, box.top);
  const right = Math.min(canvas.width, box.left + box.width);
  const bottom = Math.min(canvas.height, box.top + box.height);
  if (right <= left || bottom <= top) return null;
  const width = right - left;
  const height = bottom - top;
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sourceRow = (y + top - box.top) * box.width + (left - box.left);
    for (let x = 0; x < width; x++) rgba[(y * width + x) * 4 + 3] = blurred[sourceRow + x]!;
  }
  return { input: rgba, raw: { width, height, channels: 4 }, left, top };
}

export async function dropShadow(productAlpha: Uint8Array, product: Box, canvas: Canvas, spec: ShadowSpec): Promise<ShadowLayer | null> {
  const sigma = Math.max(0.3, spec.blur / 2);
  const pad = Math.ceil(sigma * 3);
  const radians = (spec.angle * Math.PI) / 180;
  const dx = Math.round(Math.cos(radians) * spec.distance);
  const dy = Math.round(Math.sin(radians) * spec.distance);
  const box: Box = { left: product.left + dx - pad, top: product.top + dy - pad, width: product.width + 2 * pad, height: product.height + 2 * pad };
  const alpha = new Uint8Array(box.width * box.height);
  for (let y = 0; y < product.height; y++) {
    for (let x = 0; x < product.width; x++) {
      alpha[(y + pad) * box.width + x + pad] = Math.round(productAlpha[y * product.width + x]! * spec.opacity);
    }
  }
  return blackLayer(alpha, box, canvas, sigma);
}

export async function naturalShadow(product: Box, canvas: Canvas, spec: ShadowSpec): Promise<ShadowLayer | null> {
  const rx = Math.max(4, product.width * 0.46);
  const ry = Math.max(3, Math.min(product.width * 0.06, product.height * 0.12));
  const sigma = Math.max(1, spec.blur / 3, ry * 0.5);
  const pad = Math.ceil(sigma * 3);
  const centreX = product.left + product.width / 2;
  const centreY = product.top + product.height - ry * 0.35;
  const box: Box = {
    left: Math.floor(centreX - rx - pad),
    top: Math.floor(centreY - ry - pad),
    width: Math.ceil(2 * (rx + pad)),
    height: Math.ceil(2 * (ry + pad)),
  };
  const alpha = new Uint8Array(box.width * box.height);
  const value = Math.round(255 * Math.min(1, spec.opacity * 1.4));
  for (let y = 0; y < box.height; y++) {
    const ny = (box.top + y + 0.5 - centreY) / ry;
    for (let x = 0; x < box.width; x++) {
      const nx = (box.left + x + 0.5 - centreX) / rx;
      if (nx * nx + ny * ny <= 1) alpha[y * box.width + x] = value;
    }
  }
  return blackLayer(alpha, box, canvas, sigma);
}

/** A mirrored copy under the base, fading from `opacity` to nothing over its height. */
export function reflection(productRgba: Buffer, product: Box, canvas: Canvas, spec: ShadowSpec, gap: number): ShadowLayer | null {
  const top = product.top + product.height + gap;
  const wanted = Math.round(product.height * spec.reflection_height);
  const height = Math.min(wanted, canvas.height - top);
  if (height <= 0) return null;
  const width = product.width;
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sourceRow = product.height - 1 - y;
    const fade = spec.opacity * (1 - y / Math.max(1, wanted));
    for (let x = 0; x < width; x++) {
      const source = (sourceRow * width + x) * 4;
      const target = (y * width + x) * 4;
      rgba[target] = productRgba[source]!;
      rgba[target + 1] = productRgba[source + 1]!;
      rgba[target + 2] = productRgba[source + 2]!;
      rgba[target + 3] = Math.round(productRgba[source + 3]! * fade);
    }
  }
  return { input: rgba, raw: { width, height, channels: 4 }, left: product.left, top };
}
