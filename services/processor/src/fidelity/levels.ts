import sharp from 'sharp';
import { fitIntoQwenBounds } from '../qwen/prepare-input';

/**
 * Reduced copies of the AI output, its mask and the seller's photo, on which registration and
 * drift are measured. A few hundred pixels a side is enough to see a label smoothed away or a
 * colour shifted, and keeps the whole check to a small share of the render (BENCHMARKS.md).
 */
export interface Level {
  /** RGB, 3 bytes a pixel. */
  rgb: Uint8Array;
  /** Rec. 709 luma, 0..255. */
  luma: Float32Array;
  width: number;
  height: number;
  /** Full-size pixels per level pixel, on each axis: a level pixel x covers [x*kx, (x+1)*kx) at full size. */
  kx: number;
  ky: number;
}

/** The longest side of the output at which drift is measured. */
export const MEASURE_SIDE = 512;

export function lumaOf(rgb: Uint8Array, count: number): Float32Array {
  const luma = new Float32Array(count);
  for (let index = 0, offset = 0; index < count; index++, offset += 3) luma[index] = 0.2126 * rgb[offset]! + 0.7152 * rgb[offset + 1]! + 0.0722 * rgb[offset + 2]!;
  return luma;
}

function levelSize(width: number, height: number, longest: number): { width: number; height: number } {
  const factor = Math.min(1, longest / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * factor)), height: Math.max(1, Math.round(height * factor)) };
}

/** A box of non-zero mask pixels, as the render's mask gives it (`render/mask.ts`). */
export interface MaskBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The AI output (decoded, RGB or RGBA) reduced to the measuring level, and its mask the same
 * way. `box` (the mask's non-zero box, when the caller knows it) spares a pass over the mask.
 */
export async function outputLevel(frame: { rgb: Uint8Array; channels: number; width: number; height: number }, alpha: Uint8Array, box?: MaskBox | null): Promise<{ level: Level; mask: Uint8Array }> {
  const size = levelSize(frame.width, frame.height, MEASURE_SIDE);
  const rgb = await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: frame.channels as 3 | 4 } })
    .removeAlpha()
    .resize({ ...size, fit: 'fill' })
    .raw()
    .toBuffer();
  const known = box === undefined ? undefined : box && { left: box.left, top: box.top, right: box.left + box.width, bottom: box.top + box.height };
  const mask = blockMeans(alpha, frame.width, frame.height, size.width, size.height, known);
  const count = size.width * size.height;
  return {
    level: { rgb, luma: lumaOf(rgb, count), ...size, kx: frame.width / size.width, ky: frame.height / size.height },
    mask,
  };
}

/**
 * The seller's photo as it was prepared for the AI (upright, flattened on white, sRGB, at the
 * size sent), with the geometry the registration is expressed in, and the photo reduced to
 * about the output level's scale (`scaleHint`: output pixels per prepared-photo pixel, roughly).
 */
export async function preparedPhoto(original: Buffer, scaleHint: (photo: { width: number; height: number }) => number, levelPixelsPerFull: number): Promise<{ full: { width: number; height: number }; level: Level }> {
  const metadata = await sharp(original, { limitInputPixels: 100_000_000 }).metadata();
  const upright = (metadata.orientation ?? 1) >= 5;
  const width = upright ? metadata.height : metadata.width;
  const height = upright ? metadata.width : metadata.height;
  const full = fitIntoQwenBounds(width, height);
  // As many level pixels per photo pixel as the output's level has per output pixel, so both sides are equally smooth.
  const longest = Math.min(Math.max(full.width, full.height), Math.round(Math.max(full.width, full.height) * scaleHint(full) * levelPixelsPerFull));
  const size = levelSize(full.width, full.height, Math.max(16, longest));
  const rgb = await sharp(original, { limitInputPixels: 100_000_000 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .resize({ ...size, fit: 'fill' })
    .raw()
    .toBuffer();
  return { full, level: { rgb, luma: lumaOf(rgb, size.width * size.height), ...size, kx: full.width / size.width, ky: full.height / size.height } };
}

/** The prepared photo at its full prepared size: the pixels `original` compositing delivers. */
export async function preparedPhotoPixels(original: Buffer, full: { width: number; height: number }): Promise<Uint8Array> {
  return sharp(original, { limitInputPixels: 100_000_000 })
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .resize({ ...full, fit: 'fill' })
    .raw()
    .toBuffer();
}

/** Each level pixel the mean of its block: 255 only when all of its block is product. */
function blockMeans(alpha: Uint8Array, width: number, height: number, levelWidth: number, levelHeight: number, known?: Rect | null): Uint8Array {
  const out = new Uint8Array(levelWidth * levelHeight);
  // Only the blocks that meet the mask's non-zero box are summed: outside it every block is 0.
  const box = known === undefined ? nonZeroBox(alpha, width, height) : known;
  if (!box) return out;
  if (width % levelWidth === 0 && height % levelHeight === 0) {
    wholeBlockMeans(alpha, width, levelWidth, height / levelHeight, box, out);
    return out;
  }
  const columnOf = new Uint32Array(width);
  for (let x = 0; x < width; x++) columnOf[x] = Math.min(levelWidth - 1, Math.floor((x * levelWidth) / width));
  const rowOf = (y: number) => Math.min(levelHeight - 1, Math.floor((y * levelHeight) / height));
  const columnCounts = new Uint32Array(levelWidth);
  for (let x = 0; x < width; x++) columnCounts[columnOf[x]!]!++;
  const firstColumn = columnOf[box.left]!;
  const lastColumn = columnOf[box.right - 1]!;
  const sums = new Uint32Array(levelWidth);
  // The rows of each level row, those outside the box included (they are 0 but count).
  const rowCount = (row: number) => {
    let first = Math.floor((row * height) / levelHeight);
    while (first > 0 && rowOf(first - 1) === row) first--;
    while (rowOf(first) < row) first++;
    let end = first;
    while (end < height && rowOf(end) === row) end++;
    return end - first;
  };
  let row = rowOf(box.top);
  const flush = () => {
    const rows = rowCount(row);
    for (let column = firstColumn, at = row * levelWidth + firstColumn; column <= lastColumn; column++, at++) {
      out[at] = Math.floor(sums[column]! / (columnCounts[column]! * rows));
    }
    sums.fill(0);
  };
  for (let y = box.top; y < box.bottom; y++) {
    const levelRow = rowOf(y);
    if (levelRow !== row) {
      flush();
      row = levelRow;
    }
    for (let x = box.left, at = y * width + box.left; x < box.right; x++, at++) sums[columnOf[x]!]! += alpha[at]!;
  }
  flush();
  return out;
}

/** `blockMeans` when the level divides the frame: every block is `blockWidth` x `blockHeight`. */
function wholeBlockMeans(alpha: Uint8Array, width: number, levelWidth: number, blockHeight: number, box: Rect, out: Uint8Array): void {
  const blockWidth = width / levelWidth;
  const firstColumn = Math.floor(box.left / blockWidth);
  const endColumn = Math.ceil(box.right / blockWidth);
  const firstRow = Math.floor(box.top / blockHeight);
  const endRow = Math.ceil(box.bottom / blockHeight);
  const sums = new Uint32Array(endColumn - firstColumn);
  const share = blockWidth * blockHeight;
  for (let row = firstRow; row < endRow; row++) {
    sums.fill(0);
    for (let y = row * blockHeight, yEnd = y + blockHeight; y < yEnd; y++) {
      let at = y * width + firstColumn * blockWidth;
      for (let column = 0; column < sums.length; column++) {
        let sum = 0;
        for (let k = 0; k < blockWidth; k++, at++) sum += alpha[at]!;
        sums[column]! += sum;
      }
    }
    for (let column = 0, at = row * levelWidth + firstColumn; column < sums.length; column++, at++) out[at] = Math.floor(sums[column]! / share);
  }
}

export interface Rect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** The box of the non-zero pixels ([left, right) x [top, bottom)): rows are OR-ed together, four bytes at a time when aligned. */
export function nonZeroBox(alpha: Uint8Array, width: number, height: number): Rect | null {
  const wordRows = width % 4 === 0 && alpha.byteOffset % 4 === 0;
  const words = wordRows ? new Uint32Array(alpha.buffer, alpha.byteOffset, (width * height) >> 2) : null;
  const wordsPerRow = width >> 2;
  const columns = new Uint8Array(width);
  const columnWords = wordRows ? new Uint32Array(columns.buffer, 0, wordsPerRow) : null;
  let top = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    let any = 0;
    if (words && columnWords) {
      for (let w = 0, at = y * wordsPerRow; w < wordsPerRow; w++, at++) {
        const value = words[at]!;
        any |= value;
        columnWords[w]! |= value;
      }
    } else {
      for (let x = 0, at = y * width; x < width; x++, at++) {
        const value = alpha[at]!;
        any |= value;
        columns[x]! |= value;
      }
    }
    if (any) {
      if (top < 0) top = y;
      bottom = y + 1;
    }
  }
  if (top < 0) return null;
  let left = 0;
  while (!columns[left]) left++;
  let right = width;
  while (!columns[right - 1]) right--;
  return { left, top, right, bottom };
}

/** A luma image reduced by a whole factor (block means), for the coarse search. */
export function reduceLuma(level: Pick<Level, 'luma' | 'width' | 'height' | 'kx' | 'ky'>, factor: number): Pick<Level, 'luma' | 'width' | 'height' | 'kx' | 'ky'> {
  const width = Math.max(1, Math.floor(level.width / factor));
  const height = Math.max(1, Math.floor(level.height / factor));
  const luma = new Float32Array(width * height);
  const share = 1 / (factor * factor);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * level.width + x * factor;
        for (let dx = 0; dx < factor; dx++) sum += level.luma[row + dx]!;
      }
      luma[y * width + x] = sum * share;
    }
  }
  return { luma, width, height, kx: level.kx * factor, ky: level.ky * factor };
}

/** The median of each channel along the level's border (values are levels 0..255: counted, not sorted). */
export function borderMedian(level: Level): number[] {
  const { rgb, width, height } = level;
  return [0, 1, 2].map((c) => {
    const counts = new Uint32Array(256);
    for (let x = 0; x < width; x++) {
      counts[rgb[x * 3 + c]!]!++;
      counts[rgb[((height - 1) * width + x) * 3 + c]!]!++;
    }
    for (let y = 0; y < height; y++) {
      counts[rgb[y * width * 3 + c]!]!++;
      counts[rgb[(y * width + width - 1) * 3 + c]!]!++;
    }
    // The sorted list's element at half its length.
    const wanted = (2 * width + 2 * height) >> 1;
    let seen = 0;
    for (let value = 0; value < 256; value++) {
      seen += counts[value]!;
      if (seen > wanted) return value;
    }
    return 255;
  });
}
