import type { BackdropSource, Box, MaskOptions } from './mask';
import { chromaAt, findBackground, growIntoSoftShadows, levelAt, type BackgroundLevel, type BackgroundPasses, type Pixel } from './mask-passes';

/**
 * The mask of a large output, found on a reduced copy and refined at full size along its edges.
 *
 * The copy keeps each k x k block's darkest pixel, so a product edge (or a thin dark part) marks
 * the block it falls in: the reduced mask errs towards product, by at most a block. Every full-size
 * pixel of the blocks within one block of that mask's outline (the band) is then decided again
 * on the output's own pixels, by the passes' own rules: background-like pixels joined to the
 * certain background, soft shadow grown on with the distance the reduced pass measured, and
 * loose bits of product in the band dropped as specks. Pixels away from the band keep the
 * reduced verdict; holes are decided on the reduced copy.
 *
 * What it cannot see: a gap of background narrower than a block inside the product's outline
 * and longer than the band is deep (the slit between two close parts) stays product. On a white
 * picture that gap is white either way; the editor's mask action corrects it.
 */

/** Outputs under twice this many px a side are masked whole (at 512 px the passes take a few ms). */
export const MASK_SIDE = 512;

export function reductionFactor(width: number, height: number, maskSide = MASK_SIDE): number {
  return Math.max(1, Math.floor(Math.max(width, height) / maskSide));
}

/** States of a full-size pixel while the band is decided. */
const PRODUCT = 0;
const BACKGROUND = 1;
const BAND = 2;
const BAND_BACKGROUND = 3;
/** Certain background beside the band, where the band's walks start. */
const SEED = 4;
/** Band pixels joined to certain product, or in pieces large enough to be product. */
const KEPT = 5;

interface Reduced {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * Each k x k block as its darkest value per channel. A mean would split an edge's step into
 * smaller ones that a soft shadow's growth could climb (a white cap 15 levels under the
 * background, say); the darkest keeps every step whole, and a thin dark part keeps its block.
 */
function reduce({ rgb, channels }: Pixel, width: number, height: number, k: number): Reduced {
  const lowWidth = Math.ceil(width / k);
  const lowHeight = Math.ceil(height / k);
  const out = new Uint8Array(lowWidth * lowHeight * 3).fill(255);
  for (let y = 0; y < height; y++) {
    let offset = y * width * channels;
    let target = Math.floor(y / k) * lowWidth * 3;
    for (let x = 0; x < width; target += 3) {
      const end = Math.min(width, x + k);
      let r = out[target]!;
      let g = out[target + 1]!;
      let b = out[target + 2]!;
      for (; x < end; x++, offset += channels) {
        if (rgb[offset]! < r) r = rgb[offset]!;
        if (rgb[offset + 1]! < g) g = rgb[offset + 1]!;
        if (rgb[offset + 2]! < b) b = rgb[offset + 2]!;
      }
      out[target] = r;
      out[target + 1] = g;
      out[target + 2] = b;
    }
  }
  return { rgb: out, width: lowWidth, height: lowHeight };
}

/** The reduced product's box, in reduced pixels, or null when it found no product. */
function lowProductBox(background: Uint8Array, width: number, height: number): Box | null {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0, index = 0; y < height; y++) {
    for (let x = 0; x < width; x++, index++) {
      if (background[index]) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/**
 * The full-size mask (0 background, 255 product) of a picture reduced by `k` for the passes.
 * Returns the mask and its box (found while writing it, to spare another walk of the picture).
 */
export async function refineReducedMask(
  pixel: Pixel, width: number, height: number, k: number,
  level: BackgroundLevel, original: BackdropSource | undefined, options: MaskOptions,
): Promise<{ alpha: Uint8Array; box: Box | null }> {
  const low = reduce(pixel, width, height, k);
  // A reduced pixel spans k full ones: a soft shadow darkens k times as much per step. The step
  // limit between neighbours stays (a white cap's edge is one step, at any size), so a shadow's
  // steeper ramp stops the reduced growth: `uncertainShadow` sends it to the band instead.
  const lowOptions = { ...options, shadowSlope: options.shadowSlope * k };
  const lowPixel = { rgb: low.rgb, channels: 3 };
  const passes = await findBackground(lowPixel, low.width, low.height, level, original, lowOptions, k);
  const lowBox = lowProductBox(passes.background, low.width, low.height);
  const state = new Uint8Array(width * height).fill(BACKGROUND);
  if (!lowBox) return { alpha: state.fill(0), box: null };

  // Full-size rows and columns that may hold product: the reduced box and the band around it
  // (the band reaches two blocks past the reduced box).
  const region = {
    left: Math.max(0, (lowBox.left - 2) * k),
    top: Math.max(0, (lowBox.top - 2) * k),
    right: Math.min(width, (lowBox.left + lowBox.width + 2) * k),
    bottom: Math.min(height, (lowBox.top + lowBox.height + 2) * k),
  };
  upscaleInto(state, passes.background, low.width, width, k, region);
  const band = markBand(state, passes.background, uncertainShadow(passes, lowPixel, low, level, options, k), low, width, height, k, lowBox);
  const walk = new BandWalk(pixel, state, width, height, level, options);
  const lowIndex = (index: number) => lowIndexOf(index, width, low.width, k);
  const seeds = walk.seeds(band, (index) => passes.shadowDistance[lowIndex(index)]! * k, (index) => passes.background[lowIndex(index)] === 1);
  walk.floodBackgroundLike(seeds);
  walk.growSoftShadows(seeds, band);
  walk.dropLooseSpecks(band, minPieceArea(passes, k, options));
  return toAlpha(state, width, region);
}

/**
 * Reduced product pixels a soft shadow's growth would reach were the step limit k times as
 * wide: grey ramps the reduced copy made too steep, and white parts whose edge is a real step.
 * Only the full-size pixels can tell them apart, so they join the band.
 */
function uncertainShadow(passes: BackgroundPasses, lowPixel: Pixel, low: Reduced, level: BackgroundLevel, options: MaskOptions, k: number): Uint8Array {
  const reached = passes.background.slice();
  // No slope limit either: how deep a ramp may go is for the band's walk to judge.
  const permissive = { ...options, shadowStep: options.shadowStep * k, shadowSlope: Number.MAX_SAFE_INTEGER };
  growIntoSoftShadows(reached, lowPixel, low.width, low.height, level.backgroundLevel, level.floor, permissive, new Int32Array(low.width * low.height));
  for (let index = 0; index < reached.length; index++) reached[index] = reached[index] && !passes.background[index] ? 1 : 0;
  return reached;
}

function lowIndexOf(index: number, width: number, lowWidth: number, k: number): number {
  const x = index % width;
  const y = (index - x) / width;
  return Math.floor(y / k) * lowWidth + Math.floor(x / k);
}

function minPieceArea(passes: BackgroundPasses, k: number, options: MaskOptions): number {
  return Math.max(9, passes.largestPiece * k * k * options.minPieceShare);
}

/** Writes the reduced verdict (product or background) over the region's full-size pixels. */
function upscaleInto(state: Uint8Array, lowBackground: Uint8Array, lowWidth: number, width: number, k: number, region: { left: number; top: number; right: number; bottom: number }): void {
  const row = new Uint8Array(width);
  for (let y = region.top; y < region.bottom; y += k) {
    const lowRow = Math.floor(y / k) * lowWidth;
    row.fill(BACKGROUND);
    for (let x = region.left; x < region.right; x += k) {
      const end = Math.min(region.right, x + k);
      if (!lowBackground[lowRow + Math.floor(x / k)]) row.fill(PRODUCT, x, end);
    }
    const last = Math.min(region.bottom, y + k);
    for (let fullRow = y; fullRow < last; fullRow++) state.set(row.subarray(region.left, region.right), fullRow * width + region.left);
  }
}

/**
 * The band: every full-size pixel of the reduced pixels within one of a reduced pixel of the
 * other kind (8 neighbours). Marked BAND in `state`; returned as a list.
 */
function markBand(state: Uint8Array, lowBackground: Uint8Array, uncertain: Uint8Array, low: Reduced, width: number, height: number, k: number, lowBox: Box): Int32Array {
  const { width: lowWidth, height: lowHeight } = low;
  const lowBand = new Uint8Array(lowWidth * lowHeight);
  const markAround = (index: number) => {
    const x = index % lowWidth;
    const y = (index - x) / lowWidth;
    for (let row = Math.max(0, y - 1); row <= Math.min(lowHeight - 1, y + 1); row++) {
      for (let column = Math.max(0, x - 1); column <= Math.min(lowWidth - 1, x + 1); column++) lowBand[row * lowWidth + column] = 1;
    }
  };
  const top = Math.max(0, lowBox.top - 1);
  const bottom = Math.min(lowHeight - 1, lowBox.top + lowBox.height);
  const left = Math.max(0, lowBox.left - 1);
  const right = Math.min(lowWidth - 1, lowBox.left + lowBox.width);
  for (let y = top; y <= bottom; y++) {
    for (let x = left; x <= right; x++) {
      const index = y * lowWidth + x;
      const kind = lowBackground[index];
      // Product reaching the picture's edge may leave a strip of background too thin for a
      // block (the passes' flood starts there): its blocks join the band too.
      const onEdge = x === 0 || y === 0 || x === lowWidth - 1 || y === lowHeight - 1;
      if (uncertain[index] || (onEdge && !lowBackground[index])) markAround(index);
      const differs =
        (x < lowWidth - 1 && lowBackground[index + 1] !== kind) ||
        (y < lowHeight - 1 && lowBackground[index + lowWidth] !== kind) ||
        (x < lowWidth - 1 && y < lowHeight - 1 && lowBackground[index + lowWidth + 1] !== kind) ||
        (x > 0 && y < lowHeight - 1 && lowBackground[index + lowWidth - 1] !== kind);
      if (!differs) continue;
      markAround(index);
      // The pixel it differs from is on the other side of the outline: its surroundings too.
      if (x < lowWidth - 1 && lowBackground[index + 1] !== kind) markAround(index + 1);
      if (y < lowHeight - 1 && lowBackground[index + lowWidth] !== kind) markAround(index + lowWidth);
      if (x < lowWidth - 1 && y < lowHeight - 1 && lowBackground[index + lowWidth + 1] !== kind) markAround(index + lowWidth + 1);
      if (x > 0 && y < lowHeight - 1 && lowBackground[index + lowWidth - 1] !== kind) markAround(index + lowWidth - 1);
    }
  }
  const pixels: number[] = [];
  for (let y = Math.max(0, top - 1); y <= Math.min(lowHeight - 1, bottom + 1); y++) {
    for (let x = Math.max(0, left - 1); x <= Math.min(lowWidth - 1, right + 1); x++) {
      if (!lowBand[y * lowWidth + x]) continue;
      for (let row = y * k; row < Math.min(height, y * k + k); row++) {
        for (let column = x * k; column < Math.min(width, x * k + k); column++) {
          const index = row * width + column;
          state[index] = BAND;
          pixels.push(index);
        }
      }
    }
  }
  return Int32Array.from(pixels);
}

/** The passes' rules, walked over the band's full-size pixels only. */
class BandWalk {
  /** Steps into a soft shadow, for the band and its seeds (0 elsewhere, never read there). */
  private readonly distance: Uint8Array;

  constructor(
    private readonly pixel: Pixel,
    private readonly state: Uint8Array,
    private readonly width: number,
    private readonly height: number,
    private readonly level: BackgroundLevel,
    private readonly options: MaskOptions,
  ) {
    this.distance = new Uint8Array(width * height);
  }

  /** Calls `visit` with each 4-neighbour of `index` inside the picture. */
  private neighbours(index: number, visit: (neighbour: number) => void): void {
    const x = index % this.width;
    if (x > 0) visit(index - 1);
    if (x < this.width - 1) visit(index + 1);
    if (index >= this.width) visit(index - this.width);
    if (index < this.width * (this.height - 1)) visit(index + this.width);
  }

  /**
   * Where the band's walks start, as the passes' flood starts on the picture's border: the
   * certain background touching the band, the band's background-like pixels the reduced pass
   * found background (a hole or a strip too narrow to leave certain background beside it), and
   * those on the picture's border. Each with its soft-shadow distance: 0 where background-like,
   * else the reduced pass's.
   */
  seeds(band: Int32Array, shadowDistance: (index: number) => number, reducedBackground: (index: number) => boolean): Int32Array {
    const seeds: number[] = [];
    const seed = (index: number, state: number) => {
      this.state[index] = state;
      // A background-like pixel is where a shadow starts (the passes' flood reaches it), so 0;
      // the reduced distance would count blocks the darkest pixel made shadow (JPEG ringing).
      this.distance[index] = this.backgroundLike(index) ? 0 : Math.min(255, shadowDistance(index));
      seeds.push(index);
    };
    for (const index of band) {
      if (this.state[index] === BAND && this.backgroundLike(index) && (reducedBackground(index) || this.onBorder(index))) seed(index, BAND_BACKGROUND);
      this.neighbours(index, (neighbour) => {
        if (this.state[neighbour] === BACKGROUND) seed(neighbour, SEED);
      });
    }
    return Int32Array.from(seeds);
  }

  private onBorder(index: number): boolean {
    const x = index % this.width;
    return x === 0 || x === this.width - 1 || index < this.width || index >= this.width * (this.height - 1);
  }

  private backgroundLike(index: number): boolean {
    return levelAt(this.pixel, index) >= this.level.floor && chromaAt(this.pixel, index) <= this.options.maxChroma;
  }

  /** Pass 2 in the band: background-like pixels joined to the certain background. */
  floodBackgroundLike(seeds: Int32Array): void {
    const stack = Array.from(seeds);
    while (stack.length > 0) {
      const index = stack.pop()!;
      this.neighbours(index, (neighbour) => {
        if (this.state[neighbour] !== BAND || !this.backgroundLike(neighbour)) return;
        this.state[neighbour] = BAND_BACKGROUND;
        this.distance[neighbour] = 0;
        stack.push(neighbour);
      });
    }
  }

  /** Pass 3 in the band, from the seeds and what the flood took (mask-passes' growIntoSoftShadows). */
  growSoftShadows(seeds: Int32Array, band: Int32Array): void {
    const { backgroundLevel, floor } = this.level;
    const { shadowFloor, shadowStep, shadowSlope, maxChroma } = this.options;
    const allowance = backgroundLevel - floor;
    const queue = new Int32Array(seeds.length + band.length);
    queue.set(seeds);
    let tail = seeds.length;
    for (const index of band) if (this.state[index] === BAND_BACKGROUND) queue[tail++] = index;
    for (let head = 0; head < tail; head++) {
      const from = queue[head]!;
      const fromLevel = levelAt(this.pixel, from);
      this.neighbours(from, (index) => {
        if (this.state[index] !== BAND) return;
        const level = levelAt(this.pixel, index);
        if (level < shadowFloor || chromaAt(this.pixel, index) > maxChroma) return;
        if (level < fromLevel - shadowStep) return;
        const steps = Math.min(255, this.distance[from]! + 1);
        if (backgroundLevel - level > allowance + shadowSlope * steps) return;
        this.state[index] = BAND_BACKGROUND;
        this.distance[index] = steps;
        queue[tail++] = index;
      });
    }
  }

  /**
   * Pass 5 in the band: product pixels joined to the certain product stay; the rest form loose
   * pieces, dropped when smaller than the passes' speck size.
   */
  dropLooseSpecks(band: Int32Array, minArea: number): void {
    const stack: number[] = [];
    for (const index of band) {
      if (this.state[index] !== BAND) continue;
      let joined = false;
      this.neighbours(index, (neighbour) => {
        if (this.state[neighbour] === PRODUCT || this.state[neighbour] === KEPT) joined = true;
      });
      if (!joined) continue;
      this.state[index] = KEPT;
      stack.push(index);
      this.spread(stack, KEPT);
    }
    const piece: number[] = [];
    for (const index of band) {
      if (this.state[index] !== BAND) continue;
      // A loose piece: gathered, then kept or dropped whole.
      piece.length = 0;
      this.state[index] = BAND_BACKGROUND;
      piece.push(index);
      for (let cursor = 0; cursor < piece.length; cursor++) {
        this.neighbours(piece[cursor]!, (neighbour) => {
          if (this.state[neighbour] !== BAND) return;
          this.state[neighbour] = BAND_BACKGROUND;
          piece.push(neighbour);
        });
      }
      if (piece.length >= minArea) for (const member of piece) this.state[member] = KEPT;
    }
  }

  /** Marks every BAND pixel reachable from the stack's pixels as `mark`. */
  private spread(stack: number[], mark: number): void {
    while (stack.length > 0) {
      const index = stack.pop()!;
      this.neighbours(index, (neighbour) => {
        if (this.state[neighbour] !== BAND) return;
        this.state[neighbour] = mark;
        stack.push(neighbour);
      });
    }
  }
}

/** The states become the alpha in place (255 product, 0 background); the box is found on the way. */
function toAlpha(state: Uint8Array, width: number, region: { left: number; top: number; right: number; bottom: number }): { alpha: Uint8Array; box: Box | null } {
  const alpha = state;
  let left = width;
  let top = -1;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < alpha.length / width; y++) {
    const start = y * width;
    if (y < region.top || y >= region.bottom) {
      alpha.fill(0, start, start + width);
      continue;
    }
    alpha.fill(0, start, start + region.left);
    alpha.fill(0, start + region.right, start + width);
    for (let x = region.left; x < region.right; x++) {
      const kind = alpha[start + x];
      if (kind === PRODUCT || kind === KEPT) {
        alpha[start + x] = 255;
        if (x < left) left = x;
        if (x > right) right = x;
        if (top < 0) top = y;
        bottom = y;
      } else {
        alpha[start + x] = 0;
      }
    }
  }
  return { alpha, box: right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 } };
}
