import sharp from 'sharp';
import type { ConcreteShadowType, ShadowSpec } from '@masterpost/contracts';
import type { Box } from './mask';

/**
 * The four shadow styles of docs/marketplaces.md, each drawn from the placed product:
 * drop (its silhouette, blurred and offset along `angle` by `distance`), natural (a soft
 * contact ellipse under the base) and reflection (a mirrored copy fading out below the base).
 * `auto` picks by the product's shape: very wide products sit on the floor (natural), tall and
 * narrow ones stand on a glossy surface (reflection), the rest get a drop shadow.
 */
export const AUTO_WIDE_ASPECT = 1.6;
export const AUTO_TALL_ASPECT = 0.6;
export const REFLECTION_GAP = 4;

export function chooseShadow(spec: ShadowSpec, productWidth: number, productHeight: number): ConcreteShadowType {
  if (spec.type !== 'auto') return spec.type;
  const aspect = productWidth / productHeight;
  if (aspect >= AUTO_WIDE_ASPECT) return 'natural';
  if (aspect <= AUTO_TALL_ASPECT) return 'reflection';
  return 'drop';
}

export interface ShadowLayer {
  input: Buffer;
  raw: { width: number; height: number; channels: 4 };
  left: number;
  top: number;
}

export interface Canvas {
  width: number;
  height: number;
  /** Shadows fade to nothing over this many pixels before the canvas edge. */
  margin: number;
}

/** How far beyond the product's box each shadow reaches, for placing the product. */
export function shadowReach(type: ConcreteShadowType | 'none', spec: ShadowSpec, width: number, height: number) {
  const none = { left: 0, right: 0, top: 0, bottom: 0 };
  if (spec.opacity <= 0) return none;
  if (type === 'drop') {
    const { dx, dy, pad } = dropGeometry(spec);
    return { left: Math.max(0, pad - dx), right: Math.max(0, pad + dx), top: Math.max(0, pad - dy), bottom: Math.max(0, pad + dy) };
  }
  if (type === 'natural') {
    const { rx, ry, pad, lift } = naturalGeometry(spec, width, height);
    const side = Math.max(0, Math.ceil(rx + pad - width / 2));
    return { left: side, right: side, top: 0, bottom: Math.ceil(ry - lift + pad) };
  }
  if (type === 'reflection') return { ...none, bottom: REFLECTION_GAP + Math.round(height * spec.reflection_height) };
  return none;
}

function dropGeometry(spec: ShadowSpec) {
  const sigma = Math.max(0.3, spec.blur / 2);
  const radians = (spec.angle * Math.PI) / 180;
  return { sigma, pad: Math.ceil(sigma * 3), dx: Math.round(Math.cos(radians) * spec.distance), dy: Math.round(Math.sin(radians) * spec.distance) };
}

function naturalGeometry(spec: ShadowSpec, width: number, height: number) {
  const rx = Math.max(4, width * 0.46);
  const ry = Math.max(3, Math.min(width * 0.06, height * 0.12));
  const sigma = Math.max(1, spec.blur / 3, ry * 0.5);
  // The ellipse's centre sits a little above the base, so the product stands in its shadow.
  return { rx, ry, sigma, pad: Math.ceil(sigma * 3), lift: ry * 0.35 };
}

/** Multiplies alpha by a ramp that reaches 0 on the canvas's outermost pixels. */
function fadeTowardsBorder(rgba: Buffer, layer: Box, canvas: Canvas): void {
  const ramp = Math.max(1, canvas.margin);
  for (let y = 0; y < layer.height; y++) {
    const canvasY = layer.top + y;
    const fromTopOrBottom = Math.min(canvasY, canvas.height - 1 - canvasY);
    for (let x = 0; x < layer.width; x++) {
      const canvasX = layer.left + x;
      const distance = Math.min(fromTopOrBottom, canvasX, canvas.width - 1 - canvasX);
      if (distance >= ramp) continue;
      const offset = (y * layer.width + x) * 4 + 3;
      rgba[offset] = Math.round((rgba[offset]! * Math.max(0, distance)) / ramp);
    }
  }
}

/** A black layer with the given (blurred) alpha, clipped to the canvas: sharp refuses overflow. */
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
  fadeTowardsBorder(rgba, { left, top, width, height }, canvas);
  return { input: rgba, raw: { width, height, channels: 4 }, left, top };
}

export async function dropShadow(productAlpha: Uint8Array, product: Box, canvas: Canvas, spec: ShadowSpec): Promise<ShadowLayer | null> {
  const { sigma, pad, dx, dy } = dropGeometry(spec);
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
  const { rx, ry, sigma, pad, lift } = naturalGeometry(spec, product.width, product.height);
  const centreX = product.left + product.width / 2;
  const centreY = product.top + product.height - lift;
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

/** A mirrored copy under the base, fading from `opacity` to nothing over the rows it is given. */
export function reflection(productRgba: Buffer, product: Box, canvas: Canvas, spec: ShadowSpec, rows: number): ShadowLayer | null {
  const top = product.top + product.height + REFLECTION_GAP;
  const height = Math.min(rows, product.height, canvas.height - top);
  if (height <= 0) return null;
  const width = product.width;
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sourceRow = product.height - 1 - y;
    const fade = spec.opacity * (1 - y / height);
    for (let x = 0; x < width; x++) {
      const source = (sourceRow * width + x) * 4;
      const target = (y * width + x) * 4;
      rgba[target] = productRgba[source]!;
      rgba[target + 1] = productRgba[source + 1]!;
      rgba[target + 2] = productRgba[source + 2]!;
      rgba[target + 3] = Math.round(productRgba[source + 3]! * fade);
    }
  }
  fadeTowardsBorder(rgba, { left: product.left, top, width, height }, canvas);
  return { input: rgba, raw: { width, height, channels: 4 }, left: product.left, top };
}
