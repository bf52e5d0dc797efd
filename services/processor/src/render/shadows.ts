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

/**
 * A layer composed over the region around the product. A shadow is a grey multiplied into what
 * is under it (255 - alpha: the same as black at that alpha, in one channel); a reflection is
 * a straight RGBA copy laid over.
 */
export interface ShadowLayer {
  input: Buffer;
  raw: { width: number; height: number; channels: 1 | 4 };
  left: number;
  top: number;
  blend: 'multiply' | 'over';
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

/**
 * Multiplies a layer's alpha by a ramp that reaches 0 on the canvas's outermost pixels. Only the
 * layer's pixels within the ramp of an edge are walked (usually none: the product is centred).
 */
function fadeTowardsBorder(alphaAt: (offset: number) => number, setAlpha: (offset: number, value: number) => void, layer: Box, canvas: Canvas): void {
  const ramp = Math.max(1, canvas.margin);
  const fade = (x: number, y: number) => {
    const canvasX = layer.left + x;
    const canvasY = layer.top + y;
    const distance = Math.min(canvasY, canvas.height - 1 - canvasY, canvasX, canvas.width - 1 - canvasX);
    if (distance >= ramp) return;
    const offset = y * layer.width + x;
    setAlpha(offset, Math.round((alphaAt(offset) * Math.max(0, distance)) / ramp));
  };
  const nearTop = Math.min(layer.height, Math.max(0, ramp - layer.top));
  const nearBottom = Math.max(nearTop, Math.min(layer.height, canvas.height - ramp - layer.top));
  const nearLeft = Math.min(layer.width, Math.max(0, ramp - layer.left));
  const nearRight = Math.max(nearLeft, Math.min(layer.width, canvas.width - ramp - layer.left));
  for (let y = 0; y < layer.height; y++) {
    if (y < nearTop || y >= nearBottom) {
      for (let x = 0; x < layer.width; x++) fade(x, y);
      continue;
    }
    for (let x = 0; x < nearLeft; x++) fade(x, y);
    for (let x = nearRight; x < layer.width; x++) fade(x, y);
  }
}

const oneChannel = (width: number, height: number) => ({ raw: { width, height, channels: 1 as const } });

/**
 * A wide blur costs libvips a kernel of 6 sigma per pixel. Sampled every sigma / 2 pixels, a
 * Gaussian loses nothing the eye (or a JPEG) keeps: the alpha is reduced by that step, blurred
 * there and scaled back with linear interpolation, for a fraction of the cost.
 */
export function blurStep(sigma: number): number {
  return Math.max(1, Math.min(8, Math.floor(sigma / 2)));
}

/**
 * The sigma to blur with at 1/`step` of the size: reducing and enlarging again (each a triangle
 * `step` px either side, of variance step^2 / 6) blur a little already, so the Gaussian gives
 * only the rest, and the whole is the shadow asked for.
 */
function reducedSigma(sigma: number, step: number): number {
  if (step === 1) return sigma;
  return Math.sqrt(Math.max(0, sigma * sigma - (2 * step * step) / 6)) / step;
}

/**
 * The grey of a shadow (255 - its alpha), from an alpha at 1/`step` of the layer's size, blurred
 * there by sigma / step, scaled to the layer's box and clipped to the canvas (sharp refuses
 * overflow).
 */
async function shadowGrey(small: Buffer, smallWidth: number, smallHeight: number, step: number, sigma: number, box: Box, canvas: Canvas): Promise<ShadowLayer | null> {
  const left = Math.max(0, box.left);
  const top = Math.max(0, box.top);
  const right = Math.min(canvas.width, box.left + box.width);
  const bottom = Math.min(canvas.height, box.top + box.height);
  if (right <= left || bottom <= top) return null;
  const clipped = { left, top, width: right - left, height: bottom - top };
  let image = sharp(small, oneChannel(smallWidth, smallHeight));
  const smallSigma = reducedSigma(sigma, step);
  if (smallSigma >= 0.3) image = sharp(await image.blur(smallSigma).extractChannel(0).raw().toBuffer(), oneChannel(smallWidth, smallHeight));
  if (smallWidth !== box.width || smallHeight !== box.height) {
    // Enlarged with pixel centres kept on pixel centres (`resize` would move it half a pixel).
    const scaleX = box.width / smallWidth;
    const scaleY = box.height / smallHeight;
    const enlarged = await image
      .affine([[scaleX, 0], [0, scaleY]], { odx: (scaleX - 1) / 2, ody: (scaleY - 1) / 2, interpolator: sharp.interpolators.bilinear })
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    // The affine's output is rounded up: the box is its top-left part.
    image = sharp(enlarged.data, oneChannel(enlarged.info.width, enlarged.info.height)).extract({ left: 0, top: 0, width: box.width, height: box.height });
  }
  if (clipped.width !== box.width || clipped.height !== box.height) {
    image = image.extract({ left: left - box.left, top: top - box.top, width: clipped.width, height: clipped.height });
  }
  const alpha = await image.extractChannel(0).raw().toBuffer();
  fadeTowardsBorder((offset) => alpha[offset]!, (offset, value) => (alpha[offset] = value), clipped, canvas);
  // The grey to multiply in: 255 where there is no shadow.
  for (let index = 0; index < alpha.length; index++) alpha[index] = 255 - alpha[index]!;
  return { input: alpha, ...oneChannel(clipped.width, clipped.height), left, top, blend: 'multiply' };
}

/** The product's silhouette at `opacity`, blurred, offset along the angle. */
export async function dropShadow(productRgba: Buffer, product: Box, canvas: Canvas, spec: ShadowSpec): Promise<ShadowLayer | null> {
  const { sigma, pad, dx, dy } = dropGeometry(spec);
  const box: Box = { left: product.left + dx - pad, top: product.top + dy - pad, width: product.width + 2 * pad, height: product.height + 2 * pad };
  const step = blurStep(sigma);
  // The silhouette padded with nothing (a clear background, whichever step sharp extends at)...
  const padded = await sharp(productRgba, { raw: { width: product.width, height: product.height, channels: 4 } })
    .extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r: 0, g: 0, b: 0, alpha: 0 } })
    .extractChannel(3)
    .raw()
    .toBuffer();
  // ...reduced (linear averaging, so thin parts keep their share) at the opacity asked. The
  // padded box is reduced whole, so enlarging it again maps every pixel back where it was.
  const smallWidth = Math.max(1, Math.round(box.width / step));
  const smallHeight = Math.max(1, Math.round(box.height / step));
  const small = await sharp(padded, oneChannel(box.width, box.height))
    .resize({ width: smallWidth, height: smallHeight, fit: 'fill', kernel: 'linear' })
    .linear(spec.opacity, 0)
    .extractChannel(0)
    .raw()
    .toBuffer();
  return shadowGrey(small, smallWidth, smallHeight, step, sigma, box, canvas);
}

/** A soft contact ellipse under the base, drawn at the blur's reduced scale. */
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
  const step = blurStep(sigma);
  const smallWidth = Math.max(1, Math.round(box.width / step));
  const smallHeight = Math.max(1, Math.round(box.height / step));
  const value = 255 * Math.min(1, spec.opacity * 1.4);
  const alpha = ellipseCoverage(box, { centreX, centreY, rx, ry }, smallWidth, smallHeight, value);
  return shadowGrey(alpha, smallWidth, smallHeight, step, sigma, box, canvas);
}

/**
 * The ellipse drawn at the reduced size as the share of each reduced pixel it covers, full-size
 * row by row (its span on a row is exact): a flat ellipse a few pixels tall would be missed, or
 * doubled, by testing one point a reduced pixel.
 */
function ellipseCoverage(box: Box, ellipse: { centreX: number; centreY: number; rx: number; ry: number }, smallWidth: number, smallHeight: number, value: number): Buffer {
  const stepX = box.width / smallWidth;
  const stepY = box.height / smallHeight;
  const covered = new Float64Array(smallWidth * smallHeight);
  for (let y = 0; y < box.height; y++) {
    const ny = (box.top + y + 0.5 - ellipse.centreY) / ellipse.ry;
    if (ny * ny >= 1) continue;
    const half = ellipse.rx * Math.sqrt(1 - ny * ny);
    const from = Math.max(0, ellipse.centreX - half - box.left);
    const to = Math.min(box.width, ellipse.centreX + half - box.left);
    const row = Math.min(smallHeight - 1, Math.floor(y / stepY)) * smallWidth;
    for (let x = Math.floor(from / stepX); x < smallWidth && x * stepX < to; x++) {
      covered[row + x]! += Math.min(to, (x + 1) * stepX) - Math.max(from, x * stepX);
    }
  }
  const alpha = Buffer.alloc(smallWidth * smallHeight);
  const area = stepX * stepY;
  for (let index = 0; index < alpha.length; index++) alpha[index] = Math.round((value * covered[index]!) / area);
  return alpha;
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
    // The row is copied whole, then its alpha faded.
    rgba.set(productRgba.subarray(sourceRow * width * 4, (sourceRow + 1) * width * 4), y * width * 4);
    for (let offset = y * width * 4 + 3; offset < (y + 1) * width * 4; offset += 4) rgba[offset] = Math.round(rgba[offset]! * fade);
  }
  fadeTowardsBorder((offset) => rgba[offset * 4 + 3]!, (offset, value) => (rgba[offset * 4 + 3] = value), { left: product.left, top, width, height }, canvas);
  return { input: rgba, raw: { width, height, channels: 4 }, left: product.left, top, blend: 'over' };
}
