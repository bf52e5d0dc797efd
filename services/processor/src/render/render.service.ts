import sharp from 'sharp';
import type { ConcreteShadowType, OutputFormat, RenderSpec } from '@masterpost/shared';
import { checkCompliance, type ComplianceReport } from './compliance';
import { productLimits } from './layout';
import { cutoutRgba, maskFromWhiteBackground, type Box } from './mask';
import { chooseShadow, dropShadow, naturalShadow, reflection, type ShadowLayer } from './shadows';

/**
 * The processor's own picture work: from Qwen's white-background output to the marketplace
 * picture. The product is cut out (and that cutout kept, so the editor can re-render without
 * another AI call), scaled so its longest side meets the preset's coverage, centred, given its
 * shadow and encoded without metadata.
 */
export class NoProductFoundError extends Error {
  constructor() {
    super('no product could be found in the picture: it came back entirely white');
    this.name = 'NoProductFoundError';
  }
}

export interface Cutout {
  data: Buffer;
  width: number;
  height: number;
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

export async function cutoutFromQwenOutput(qwenOutput: Buffer): Promise<Cutout> {
  const { data, info } = await sharp(qwenOutput).flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const mask = maskFromWhiteBackground(data, info.width, info.height, info.channels);
  if (!mask.box) throw new NoProductFoundError();
  return cutoutRgba(data, mask, info.channels);
}

export function cutoutToPng(cutout: Cutout): Promise<Buffer> {
  return sharp(cutout.data, { raw: { width: cutout.width, height: cutout.height, channels: 4 } }).png({ compressionLevel: 6 }).toBuffer();
}

const REFLECTION_GAP = 4;

export async function renderFromCutout(cutout: Cutout, spec: RenderSpec): Promise<RenderedPicture> {
  const { width: canvasWidth, height: canvasHeight } = spec.canvas;
  const limits = productLimits(spec);
  const scale = Math.min(limits.maxWidth / cutout.width, limits.maxHeight / cutout.height);
  const productWidth = Math.max(1, Math.round(cutout.width * scale));
  const productHeight = Math.max(1, Math.round(cutout.height * scale));
  const shadow = chooseShadow(spec.shadow, productWidth, productHeight);

  let top = Math.round((canvasHeight - productHeight) / 2);
  if (shadow === 'reflection') {
    // Centre product and reflection together, but never move the product off the canvas:
    // the reflection is cut short instead.
    const reflectionHeight = Math.round(productHeight * spec.shadow.reflection_height);
    const block = productHeight + REFLECTION_GAP + reflectionHeight;
    // Keep at least half the usual margin above the product so it never touches the border.
    top = Math.max(Math.round((canvasHeight - productHeight) / 4), Math.min(top, Math.round((canvasHeight - block) / 2)));
  }
  const product: Box = { left: Math.round((canvasWidth - productWidth) / 2), top, width: productWidth, height: productHeight };

  const productRgba = await sharp(cutout.data, { raw: { width: cutout.width, height: cutout.height, channels: 4 } })
    .resize({ width: productWidth, height: productHeight, fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();

  const layers: ShadowLayer[] = [];
  if (spec.shadow.opacity > 0) {
    let layer: ShadowLayer | null = null;
    if (shadow === 'drop' || shadow === 'natural') {
      const alpha = new Uint8Array(productWidth * productHeight);
      for (let index = 0; index < alpha.length; index++) alpha[index] = productRgba[index * 4 + 3]!;
      layer = shadow === 'drop' ? await dropShadow(alpha, product, spec.canvas, spec.shadow) : await naturalShadow(product, spec.canvas, spec.shadow);
    } else if (shadow === 'reflection') {
      layer = reflection(productRgba, product, spec.canvas, spec.shadow, REFLECTION_GAP);
    }
    if (layer) layers.push(layer);
  }

  const composed = sharp({ create: { width: canvasWidth, height: canvasHeight, channels: 3, background: spec.background } })
    .composite([
      ...layers.map((layer) => ({ input: layer.input, raw: layer.raw, left: layer.left, top: layer.top })),
      { input: productRgba, raw: { width: productWidth, height: productHeight, channels: 4 as const }, left: product.left, top: product.top },
    ])
    .toColourspace('srgb');
  const bytes = await encode(composed, spec.format, spec.quality);
  const compliance = await checkCompliance(bytes, spec, product);
  return { bytes, format: spec.format, width: canvasWidth, height: canvasHeight, shadow, product, compliance };
}

/** Encodes without metadata: sharp drops EXIF, GPS and ICC unless asked to keep them. */
function encode(image: sharp.Sharp, format: OutputFormat, quality: number): Promise<Buffer> {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0', mozjpeg: false }).toBuffer();
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return image.webp({ quality }).toBuffer();
  }
}

export async function renderFromQwenOutput(qwenOutput: Buffer, spec: RenderSpec): Promise<{ picture: RenderedPicture; cutout: Cutout }> {
  const cutout = await cutoutFromQwenOutput(qwenOutput);
  return { picture: await renderFromCutout(cutout, spec), cutout };
}
