import sharp from 'sharp';
import type { ConcreteShadowType, DriftReport, OutputFormat, RenderSpec } from '@masterpost/contracts';
import { checkFidelity, type FidelityRequest } from '../fidelity/fidelity';
import { checkCompliance, type ComplianceReport } from './compliance';
import { canvasMargin, placeProduct, productLimits } from './layout';
import { productMask, type BackdropSource, type Box } from './mask';
import { cutoutFromAlpha, matteAgainstWhite, type Cutout } from './matte';
import { composeLayer, composeOver, filledRegion } from './compose';
import { chooseShadow, dropShadow, naturalShadow, reflection, type ShadowLayer } from './shadows';

/**
 * The processor's own picture work: from Qwen's white-background output to the marketplace
 * picture. The product is cut out (that cutout and its mask are kept, so the editor can render
 * again or take a corrected mask without another AI call), scaled so its longest side meets the
 * preset's coverage, placed, given its shadow and encoded without metadata.
 */
export type { Cutout } from './matte';

export class NoProductFoundError extends Error {
  constructor() {
    super('no product could be found in the picture: it came back entirely white');
    this.name = 'NoProductFoundError';
  }
}

export interface RenderedPicture {
  bytes: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  shadow: ConcreteShadowType;
  product: Box;
  compliance: ComplianceReport;
}

/** The cutout and, for the editor, its mask over the whole Qwen output (white = product). */
export interface ExtractedProduct {
  cutout: Cutout;
  maskPng: Buffer;
  /** How far the AI drifted from the photo and whose pixels the cutout carries (with a photo and a fidelity request). */
  drift?: DriftReport;
}

/** Aspect ratios closer than this share are one shape (rounding of the provider's sizes). */
const SAME_SHAPE = 0.02;

async function decodeQwenOutput(qwenOutput: Buffer) {
  const { data, info } = await sharp(qwenOutput).flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { rgb: data, channels: info.channels, width: info.width, height: info.height };
}

/**
 * The seller's photo laid over the Qwen output's frame, to tell a hole from a white part. Only
 * when both have one shape: an output framed otherwise would not line up with the photo, and a
 * label compared with the backdrop beside it would be taken for a hole.
 */
function backdropOf(original: Buffer | undefined, frameWidth: number, frameHeight: number): BackdropSource | undefined {
  if (!original) return undefined;
  return async (width, height) => {
    try {
      const photo = await sharp(original, { limitInputPixels: 100_000_000 }).metadata();
      const upright = (photo.orientation ?? 1) >= 5 ? photo.height / photo.width : photo.width / photo.height;
      if (Math.abs(upright - frameWidth / frameHeight) > (frameWidth / frameHeight) * SAME_SHAPE) return null;
      return await sharp(original, { limitInputPixels: 100_000_000 })
        .rotate()
        .flatten({ background: '#ffffff' })
        .resize({ width, height, fit: 'fill' })
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer();
    } catch {
      // It was read at upload; if it cannot be read again, holes stay product, the safe side.
      return null;
    }
  };
}

/**
 * The product from Qwen's output. With the seller's photo and a fidelity request, the output is
 * also registered to the photo and its drift measured (fidelity/), and with `original` the
 * cutout carries the photo's pixels along the same matted mask. The editor's mask stays in the
 * output's frame either way.
 */
export async function extractProduct(qwenOutput: Buffer, original?: Buffer, fidelity?: FidelityRequest): Promise<ExtractedProduct> {
  const frame = await decodeQwenOutput(qwenOutput);
  const mask = await productMask(frame.rgb, frame.width, frame.height, frame.channels, backdropOf(original, frame.width, frame.height));
  if (!mask.box) throw new NoProductFoundError();
  const matted = matteAgainstWhite(frame, mask);
  if (!matted) throw new NoProductFoundError();
  const maskPng = await maskToPng(matted.alpha, frame.width, frame.height);
  if (!original || !fidelity) return { cutout: matted.cutout, maskPng };
  const checked = await checkFidelity(frame, mask, matted.alpha, original, fidelity);
  return { cutout: checked.cutout ?? matted.cutout, maskPng, drift: checked.drift };
}

const MASK_FLOOR = 12;

/** The editor's mask (white = product, any size of the same shape) applied to the Qwen output. */
export async function extractWithMask(qwenOutput: Buffer, maskImage: Buffer): Promise<ExtractedProduct> {
  const frame = await decodeQwenOutput(qwenOutput);
  // Linear scaling: a ringing kernel would leave faint "product" far from the strokes.
  const alpha = await sharp(maskImage)
    .flatten({ background: '#000000' })
    .resize({ width: frame.width, height: frame.height, fit: 'fill', kernel: 'linear' })
    .greyscale()
    .extractChannel(0)
    .raw()
    .toBuffer();
  // Brush edges a few levels above black are not product; they would only widen the product's box.
  for (let index = 0; index < alpha.length; index++) if (alpha[index]! < MASK_FLOOR) alpha[index] = 0;
  const matted = cutoutFromAlpha(frame, alpha);
  if (!matted) throw new NoProductFoundError();
  return { cutout: matted.cutout, maskPng: await maskToPng(matted.alpha, frame.width, frame.height) };
}

function maskToPng(alpha: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(alpha.buffer, alpha.byteOffset, alpha.length), { raw: { width, height, channels: 1 } }).png({ compressionLevel: 6 }).toBuffer();
}

export function cutoutToPng(cutout: Cutout): Promise<Buffer> {
  return sharp(cutout.data, { raw: { width: cutout.width, height: cutout.height, channels: 4 } }).png({ compressionLevel: 6 }).toBuffer();
}

export async function cutoutFromPng(png: Buffer): Promise<Cutout> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export async function renderFromCutout(cutout: Cutout, spec: RenderSpec): Promise<RenderedPicture> {
  const { width: canvasWidth, height: canvasHeight } = spec.canvas;
  const limits = productLimits(spec);
  const scale = Math.min(limits.maxWidth / cutout.width, limits.maxHeight / cutout.height);
  const productWidth = Math.max(1, Math.round(cutout.width * scale));
  const productHeight = Math.max(1, Math.round(cutout.height * scale));
  const shadow = chooseShadow(spec.shadow, productWidth, productHeight);
  const drawn = spec.shadow.opacity > 0 ? shadow : 'none';
  const { product, reflectionHeight } = placeProduct(spec, productWidth, productHeight, drawn);
  const canvas = { ...spec.canvas, margin: canvasMargin(spec) };

  const productRgba = await sharp(cutout.data, { raw: { width: cutout.width, height: cutout.height, channels: 4 } })
    .resize({ width: productWidth, height: productHeight, fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();

  let layer: ShadowLayer | null = null;
  if (drawn === 'drop') layer = await dropShadow(productRgba, product, canvas, spec.shadow);
  else if (drawn === 'natural') layer = await naturalShadow(product, canvas, spec.shadow);
  else if (drawn === 'reflection') layer = reflection(productRgba, product, canvas, spec.shadow, reflectionHeight);

  const bytes = await encode(await composeOnCanvas(spec, productRgba, product, layer), spec.format, spec.quality);
  const compliance = await checkCompliance(bytes, spec, product);
  return { bytes, format: spec.format, width: canvasWidth, height: canvasHeight, shadow, product, compliance };
}

/**
 * The product and its shadow composed over the region they cover, then set on the canvas's
 * background by `extend`. Composing the whole canvas in libvips (floating point, every pixel)
 * cost more than encoding it; here only the region is walked, in integers (compose.ts).
 */
async function composeOnCanvas(spec: RenderSpec, productRgba: Buffer, product: Box, layer: ShadowLayer | null): Promise<sharp.Sharp> {
  const { width: canvasWidth, height: canvasHeight } = spec.canvas;
  const layerBox = layer ? { left: layer.left, top: layer.top, width: layer.raw.width, height: layer.raw.height } : product;
  const left = Math.min(product.left, layerBox.left);
  const top = Math.min(product.top, layerBox.top);
  const region: Box = {
    left,
    top,
    width: Math.max(product.left + product.width, layerBox.left + layerBox.width) - left,
    height: Math.max(product.top + product.height, layerBox.top + layerBox.height) - top,
  };
  const pixels = filledRegion(region, spec.background);
  if (layer) composeLayer(pixels, region, layer);
  composeOver(pixels, region, productRgba, product);
  return sharp(pixels, { raw: { width: region.width, height: region.height, channels: 3 } })
    .extend({ left, top, right: canvasWidth - left - region.width, bottom: canvasHeight - top - region.height, background: spec.background })
    .toColourspace('srgb');
}

/** Encodes without metadata: sharp drops EXIF, GPS and ICC unless asked to keep them. */
export function encode(image: sharp.Sharp, format: OutputFormat, quality: number): Promise<Buffer> {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0', mozjpeg: false }).toBuffer();
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
  }
}

export async function renderFromQwenOutput(qwenOutput: Buffer, spec: RenderSpec, original?: Buffer, fidelity?: FidelityRequest): Promise<{ picture: RenderedPicture } & ExtractedProduct> {
  const extracted = await extractProduct(qwenOutput, original, fidelity);
  return { picture: withDrift(await renderFromCutout(extracted.cutout, spec), extracted.drift), ...extracted };
}

/** The drift report joins the picture's compliance report (progress, manifest, the one-call answer). */
export function withDrift(picture: RenderedPicture, drift: DriftReport | undefined): RenderedPicture {
  return drift ? { ...picture, compliance: { ...picture.compliance, drift } } : picture;
}
