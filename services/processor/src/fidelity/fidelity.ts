import sharp from 'sharp';
import type { DriftReport, ProductPixelsMode } from '@masterpost/contracts';
import type { Cutout } from '../render/matte';
import { measureDrift, verdictOf, type DriftThresholds } from './drift';
import { lumaOf, outputLevel, preparedPhoto, preparedPhotoPixels, type Level, type MaskBox } from './levels';
import { cutoutFromPhoto } from './original-pixels';
import { register } from './register';

/**
 * The product-fidelity step of a render (issue 20): register the AI output to the seller's
 * prepared photo, measure the drift, and decide whose pixels the product is drawn with.
 * `original` (the default when the match is confident) cuts the product from the seller's photo
 * along the AI's matted mask; `ai` keeps the AI's pixels, and the report says why.
 */
export interface FidelityRequest {
  /** The job's setting; absent: `original` when the match is confident. */
  productPixels?: ProductPixelsMode;
  thresholds: DriftThresholds;
  /** Paid calls already made again for this picture because of drift (recorded in the report). */
  retries: number;
}

export interface FidelityOutcome {
  drift: DriftReport;
  /** The seller's pixels, when `original` was chosen; otherwise the AI's cutout stands. */
  cutout: Cutout | null;
}

/** The photo's level at `width` pixels wide (the same aspect), reduced from the level already made, or decoded again when it must be finer. */
async function atScale(photo: { full: { width: number; height: number }; level: Level }, original: Buffer, width: number): Promise<Level> {
  const wanted = Math.max(8, Math.min(photo.full.width, Math.round(width)));
  if (Math.abs(wanted - photo.level.width) <= photo.level.width * 0.05) return photo.level;
  const height = Math.max(8, Math.round((wanted * photo.full.height) / photo.full.width));
  const source = wanted < photo.level.width
    ? sharp(photo.level.rgb, { raw: { width: photo.level.width, height: photo.level.height, channels: 3 } })
    : sharp(original, { limitInputPixels: 100_000_000 }).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb').removeAlpha();
  const rgb = await source.resize({ width: wanted, height, fit: 'fill' }).raw().toBuffer();
  return { rgb, luma: lumaOf(rgb, wanted * height), width: wanted, height, kx: photo.full.width / wanted, ky: photo.full.height / height };
}

const round = (value: number, places: number) => Math.round(value * 10 ** places) / 10 ** places;

export async function checkFidelity(
  frame: { rgb: Uint8Array; channels: number; width: number; height: number },
  mask: { alpha: Uint8Array; box: MaskBox | null }, mattedAlpha: Uint8Array, original: Buffer, request: FidelityRequest,
): Promise<FidelityOutcome> {
  const { level: output, mask: levelMask } = await outputLevel(frame, mask.alpha, mask.box);
  const photo = await preparedPhoto(original, (full) => Math.max(frame.width, frame.height) / Math.max(full.width, full.height), 1 / output.kx);
  const registration = register(output, levelMask, photo.level, frame, photo.full);
  // Measured with the photo at the output level's own scale: finer, it would show detail the output could not hold.
  const measures = measureDrift(output, levelMask, await atScale(photo, original, (registration.scale * photo.full.width) / output.kx), registration);
  const verdict = verdictOf(measures, request.thresholds);

  let productPixels: ProductPixelsMode = 'original';
  let reason: string | undefined;
  if (request.productPixels === 'ai') {
    productPixels = 'ai';
    reason = 'the job asked for the AI\'s pixels (product_pixels: ai)';
  } else if (registration.confidence < request.thresholds.minConfidence || measures.measured === 0) {
    productPixels = 'ai';
    reason = `the AI's picture could not be matched to the photo with confidence (${registration.confidence.toFixed(2)}, at least ${request.thresholds.minConfidence} needed), so the seller's pixels could not be placed`;
  } else if (measures.occluderShare > request.thresholds.occluderShare) {
    productPixels = 'ai';
    reason = `something in front of the product in the photo (${Math.round(measures.occluderShare * 100)}% of the product) was removed by the AI; the seller's pixels would bring it back`;
  }

  let cutout: Cutout | null = null;
  if (productPixels === 'original') {
    const pixels = await preparedPhotoPixels(original, photo.full);
    // Registration was found between the photo as prepared and the output: the same geometry here.
    const matted = cutoutFromPhoto({ rgb: pixels, ...photo.full }, mattedAlpha, frame.width, frame.height, registration);
    if (matted) cutout = matted.cutout;
    else {
      productPixels = 'ai';
      reason = 'the AI\'s mask fell outside the photo once matched';
    }
  }

  return {
    drift: {
      verdict,
      registration: { scale: round(registration.scale, 4), dx: round(registration.dx, 2), dy: round(registration.dy, 2), confidence: round(registration.confidence, 3) },
      delta_e_mean: round(measures.deltaEMean, 2),
      delta_e_p95: round(measures.deltaEP95, 2),
      ssim: round(measures.ssim, 3),
      detail_change: round(measures.detailChange, 3),
      product_pixels: productPixels,
      ...(reason ? { product_pixels_reason: reason } : {}),
      retries: request.retries,
    },
    cutout,
  };
}
