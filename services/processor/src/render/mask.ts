import { MASK_SIDE, refineReducedMask, reductionFactor } from './mask-band';
import { findBackground, measureBackground, type Pixel } from './mask-passes';

/**
 * The product mask from Qwen's white-background output, in five passes over the pixels:
 *
 * 1. Background level, measured on the picture's border: Qwen's "white" comes back as 250-255
 *    with noise, and JPEG artefacts lower it further. Near that level and nearly grey is
 *    background-like.
 * 2. Background: background-like pixels connected to the border (a flood fill), so white parts
 *    inside the product, a label, stay product.
 * 3. Light shadows Qwen leaves despite the prompt: grown from the background into grey pixels
 *    that darken no faster than a blurred shadow does (`shadowSlope` levels a pixel). A
 *    product's edge, a white part's included, steps down at once and stops the growth.
 * 4. Holes (a mug's handle): an enclosed background-like region is a hole when the seller's own
 *    photo shows its backdrop there; a white label shows white. Without the photo, or on a white
 *    backdrop, the region stays product: dropping part of a product is worse than keeping a
 *    white hole on a white picture, and the editor's mask action fixes it.
 * 5. Specks: pieces of "product" far smaller than the product are noise.
 *
 * A large output (Qwen returns up to 2048 px a side) is masked on a copy reduced to about
 * MASK_SIDE px, where each pass costs a fraction; only the band around that mask's edges is
 * decided again on the full-size pixels (mask-band.ts). The passes run in JavaScript, so their
 * cost is per pixel walked: the band is a few percent of the picture.
 */
export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface ProductMask {
  width: number;
  height: number;
  /** One byte per pixel, 0 = background, 255 = product (edges are matted later). */
  alpha: Uint8Array;
  box: Box | null;
  /** The measured background level (the "white" the edges are matted against). */
  backgroundLevel: number;
}

export interface MaskOptions {
  /** Background is at most this many levels below the measured background level... */
  backgroundNoise: number;
  /** ...and its channels differ by at most this (a pale colour is not background). */
  maxChroma: number;
  /** Light shadows: the darkest level removed, how fast one may darken, the most between neighbours. */
  shadowFloor: number;
  shadowSlope: number;
  shadowStep: number;
  /** Enclosed regions smaller than this share of the picture are never holes. */
  minHoleShare: number;
  /** A hole shows the photo's backdrop: channels within this of it, and the backdrop this far from white. */
  backdropTolerance: number;
  /** Product pieces smaller than this share of the largest piece are specks. */
  minPieceShare: number;
  /** Larger outputs are masked on a copy reduced to about this many px a side (mask-band.ts). */
  maskSide: number;
}

export const defaultMaskOptions: MaskOptions = {
  backgroundNoise: 6,
  maxChroma: 14,
  shadowFloor: 190,
  shadowSlope: 1.5,
  shadowStep: 6,
  minHoleShare: 0.0004,
  backdropTolerance: 28,
  minPieceShare: 0.002,
  maskSide: MASK_SIDE,
};

/** The seller's photo at the size asked (the Qwen output's, or its reduced copy's), decoded only when a hole must be decided. */
export type BackdropSource = (width: number, height: number) => Promise<Uint8Array | null>;

export async function productMask(
  rgb: Uint8Array,
  width: number,
  height: number,
  channels: number,
  original?: BackdropSource,
  options: MaskOptions = defaultMaskOptions,
): Promise<ProductMask> {
  const pixel: Pixel = { rgb, channels };
  const level = measureBackground(pixel, width, height, options);
  const factor = reductionFactor(width, height, options.maskSide);
  if (factor > 1) {
    const { alpha, box } = await refineReducedMask(pixel, width, height, factor, level, original, options);
    return { width, height, alpha, box, backgroundLevel: level.backgroundLevel };
  }
  const { background } = await findBackground(pixel, width, height, level, original, options);
  // The background becomes the alpha in place: 0 where background, 255 where product.
  const alpha = background;
  for (let index = 0; index < alpha.length; index++) alpha[index] = alpha[index] ? 0 : 255;
  return { width, height, alpha, box: boxOf(alpha, width, height), backgroundLevel: level.backgroundLevel };
}

/**
 * The bounding box of the pixels whose alpha is not 0, or null when there are none; looked for
 * only `within` a box when the caller knows nothing lies outside it.
 */
export function boxOf(alpha: Uint8Array, width: number, height: number, within: Box = { left: 0, top: 0, width, height }): Box | null {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = within.top; y < within.top + within.height; y++) {
    for (let x = within.left, index = y * width + x; x < within.left + within.width; x++, index++) {
      if (!alpha[index]) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}
