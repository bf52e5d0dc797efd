import type { BackdropSource, MaskOptions } from './mask';

/**
 * The mask's passes (see mask.ts), each over one picture's pixels: the whole Qwen output when
 * it is small, its reduced copy when it is large (mask-band.ts refines the edges at full size).
 */
export const BACKGROUND = 1;

/** The decoded picture; levels are read from it where needed rather than copied out. */
export interface Pixel {
  rgb: Uint8Array;
  channels: number;
}

/** The darkest channel: how far from white a pixel is. */
export function levelAt({ rgb, channels }: Pixel, index: number): number {
  const offset = index * channels;
  return Math.min(rgb[offset]!, rgb[offset + 1]!, rgb[offset + 2]!);
}

/** How far apart the channels are: 0 for greys, white included. */
export function chromaAt({ rgb, channels }: Pixel, index: number): number {
  const offset = index * channels;
  const r = rgb[offset]!;
  const g = rgb[offset + 1]!;
  const b = rgb[offset + 2]!;
  return Math.max(r, g, b) - Math.min(r, g, b);
}

/** The background level on the picture's border, and the floor above which a grey pixel is background-like. */
export interface BackgroundLevel {
  backgroundLevel: number;
  floor: number;
}

export function measureBackground(pixel: Pixel, width: number, height: number, options: MaskOptions): BackgroundLevel {
  const values: number[] = [];
  const take = (index: number) => {
    if (chromaAt(pixel, index) <= options.maxChroma) values.push(levelAt(pixel, index));
  };
  for (let x = 0; x < width; x++) {
    take(x);
    take((height - 1) * width + x);
  }
  for (let y = 1; y < height - 1; y++) {
    take(y * width);
    take(y * width + width - 1);
  }
  values.sort((a, b) => a - b);
  // A product filling the border leaves too little to measure: assume Qwen's usual white.
  if (values.length < (width + height) / 2) return { backgroundLevel: 255, floor: 255 - options.backgroundNoise * 2 };
  const backgroundLevel = values[Math.floor(values.length / 2)]!;
  const low = values[Math.floor(values.length * 0.02)]!;
  const floor = Math.max(225, Math.min(backgroundLevel - options.backgroundNoise, low - 1, 252));
  return { backgroundLevel, floor };
}

/** What the passes find: 1 where background; how far into a soft shadow each background pixel is; the largest piece's size. */
export interface BackgroundPasses {
  background: Uint8Array;
  shadowDistance: Uint8Array;
  largestPiece: number;
}

/**
 * Passes 2 to 5 over one picture (its background level measured already). `block` is how many
 * full-size pixels a side one of these pixels stands for (mask-band.ts's reduced copy): the sizes
 * below which a hole or a piece is noise are counted in full-size pixels.
 */
export async function findBackground(
  pixel: Pixel, width: number, height: number, level: BackgroundLevel, original: BackdropSource | undefined, options: MaskOptions, block = 1,
): Promise<BackgroundPasses> {
  const count = width * height;
  const backgroundLike = new Uint8Array(count);
  for (let index = 0; index < count; index++) if (levelAt(pixel, index) >= level.floor && chromaAt(pixel, index) <= options.maxChroma) backgroundLike[index] = 1;

  // Memory matters here (two render threads, pictures of 4 MP): one index array of the
  // picture's size serves every walk in turn (stack, queue, regions) and the flag arrays are
  // reused once their pass is over.
  const scratch = new Int32Array(count);
  const background = new Uint8Array(count);
  floodFromBorder(background, width, height, backgroundLike, scratch);
  const shadowDistance = growIntoSoftShadows(background, pixel, width, height, level.backgroundLevel, level.floor, options, scratch);
  await clearHoles(background, width, height, backgroundLike, original, options, scratch, block);
  const largestPiece = removeSpecks(background, width, height, options.minPieceShare, scratch, backgroundLike, block);
  return { background, shadowDistance, largestPiece };
}

function floodFromBorder(background: Uint8Array, width: number, height: number, backgroundLike: Uint8Array, stack: Int32Array): void {
  const count = width * height;
  let size = 0;
  const visit = (index: number) => {
    if (!background[index] && backgroundLike[index]) {
      background[index] = BACKGROUND;
      stack[size++] = index;
    }
  };
  for (let x = 0; x < width; x++) {
    visit(x);
    visit((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    visit(y * width);
    visit(y * width + width - 1);
  }
  while (size > 0) {
    const index = stack[--size]!;
    const x = index % width;
    // Unrolled: this walk runs over the whole background of every picture.
    let next = index - 1;
    if (x > 0 && !background[next] && backgroundLike[next]) {
      background[next] = BACKGROUND;
      stack[size++] = next;
    }
    next = index + 1;
    if (x < width - 1 && !background[next] && backgroundLike[next]) {
      background[next] = BACKGROUND;
      stack[size++] = next;
    }
    next = index - width;
    if (next >= 0 && !background[next] && backgroundLike[next]) {
      background[next] = BACKGROUND;
      stack[size++] = next;
    }
    next = index + width;
    if (next < count && !background[next] && backgroundLike[next]) {
      background[next] = BACKGROUND;
      stack[size++] = next;
    }
  }
}

/**
 * Breadth first from the background's edge, so `distance` is how far into the grey a pixel is:
 * it joins the background when it is no darker than a soft shadow could be that far in.
 */
export function growIntoSoftShadows(
  background: Uint8Array, pixel: Pixel, width: number, height: number,
  backgroundLevel: number, floor: number, options: MaskOptions, queue: Int32Array,
): Uint8Array {
  const count = width * height;
  // Steps from the background, capped: 255 steps of shadowSlope is darker than any shadow floor.
  const distance = new Uint8Array(count);
  let head = 0;
  let tail = 0;
  for (let index = 0; index < count; index++) {
    if (!background[index]) continue;
    const x = index % width;
    const edge = (x > 0 && !background[index - 1]) || (x < width - 1 && !background[index + 1]) ||
      (index >= width && !background[index - width]) || (index < count - width && !background[index + width]);
    if (edge) queue[tail++] = index;
  }
  const allowance = backgroundLevel - floor;
  const visit = (from: number, index: number) => {
    if (background[index]) return;
    const level = levelAt(pixel, index);
    if (level < options.shadowFloor || chromaAt(pixel, index) > options.maxChroma) return;
    if (level < levelAt(pixel, from) - options.shadowStep) return;
    const steps = Math.min(255, distance[from]! + 1);
    if (backgroundLevel - level > allowance + options.shadowSlope * steps) return;
    background[index] = BACKGROUND;
    distance[index] = steps;
    queue[tail++] = index;
  };
  while (head < tail) {
    const index = queue[head++]!;
    const x = index % width;
    if (x > 0) visit(index, index - 1);
    if (x < width - 1) visit(index, index + 1);
    if (index >= width) visit(index, index - width);
    if (index < count - width) visit(index, index + width);
  }
  return distance;
}

/**
 * Connected regions (4-neighbour) of the pixels where `member` is 1, as runs in `pixels` (a
 * scratch array of the picture's size, reused across passes to keep memory down). Visited
 * pixels are marked 2 in `member`, which is the caller's own temporary array.
 */
export function regions(width: number, height: number, member: Uint8Array, pixels: Int32Array): { pixels: Int32Array; starts: number[] } {
  const count = width * height;
  const starts: number[] = [];
  let size = 0;
  const VISITED = 2;
  for (let seed = 0; seed < count; seed++) {
    if (member[seed] !== 1) continue;
    starts.push(size);
    member[seed] = VISITED;
    pixels[size++] = seed;
    for (let cursor = size - 1; cursor < size; cursor++) {
      const index = pixels[cursor]!;
      const x = index % width;
      // Unrolled: this walk runs over every product pixel of every picture.
      let next = index - 1;
      if (x > 0 && member[next] === 1) {
        member[next] = VISITED;
        pixels[size++] = next;
      }
      next = index + 1;
      if (x < width - 1 && member[next] === 1) {
        member[next] = VISITED;
        pixels[size++] = next;
      }
      next = index - width;
      if (next >= 0 && member[next] === 1) {
        member[next] = VISITED;
        pixels[size++] = next;
      }
      next = index + width;
      if (next < count && member[next] === 1) {
        member[next] = VISITED;
        pixels[size++] = next;
      }
    }
  }
  starts.push(size);
  return { pixels: pixels.subarray(0, size), starts };
}

async function clearHoles(
  background: Uint8Array, width: number, height: number,
  backgroundLike: Uint8Array, original: BackdropSource | undefined, options: MaskOptions, scratch: Int32Array, block: number,
): Promise<void> {
  if (!original) return;
  const minArea = Math.max(25 / (block * block), Math.round(width * height * options.minHoleShare));
  // backgroundLike becomes the candidates: its flood is over.
  const candidate = backgroundLike;
  for (let index = 0; index < candidate.length; index++) candidate[index] = !background[index] && candidate[index] ? 1 : 0;
  const enclosed = regions(width, height, candidate, scratch);
  const candidates: Array<[number, number]> = [];
  for (let region = 0; region + 1 < enclosed.starts.length; region++) {
    const start = enclosed.starts[region]!;
    const end = enclosed.starts[region + 1]!;
    // On a reduced copy each block that touches the hole's edge holds the edge's darkest pixel:
    // the hole lost up to a block each side, given back before it is measured.
    const area = block > 1 ? (Math.sqrt(end - start) + 2) ** 2 : end - start;
    if (area >= minArea) candidates.push([start, end]);
  }
  if (candidates.length === 0) return;
  const photo = await original(width, height);
  if (!photo) return;

  // The backdrop: the photo's colour where Qwen's output is background, along the border.
  const backdrop = [0, 1, 2].map((channel) => {
    const values: number[] = [];
    for (let x = 0; x < width; x += 2) {
      for (const index of [x, (height - 1) * width + x]) if (background[index]) values.push(photo[index * 3 + channel]!);
    }
    values.sort((a, b) => a - b);
    return values.length ? values[Math.floor(values.length / 2)]! : 255;
  });
  const tolerance = options.backdropTolerance;
  if (backdrop.every((value) => value >= 255 - tolerance)) return;
  for (const [start, end] of candidates) {
    const sum = [0, 0, 0];
    for (let cursor = start; cursor < end; cursor++) {
      const index = enclosed.pixels[cursor]!;
      for (let channel = 0; channel < 3; channel++) sum[channel]! += photo[index * 3 + channel]!;
    }
    const showsBackdrop = backdrop.every((value, channel) => Math.abs(sum[channel]! / (end - start) - value) <= tolerance);
    if (showsBackdrop) for (let cursor = start; cursor < end; cursor++) background[enclosed.pixels[cursor]!] = BACKGROUND;
  }
}

/** Drops pieces far smaller than the largest, and tells the largest piece's size. */
function removeSpecks(background: Uint8Array, width: number, height: number, minPieceShare: number, scratch: Int32Array, spare: Uint8Array, block: number): number {
  const product = spare;
  for (let index = 0; index < product.length; index++) product[index] = background[index] ? 0 : 1;
  const pieces = regions(width, height, product, scratch);
  let largest = 0;
  for (let piece = 0; piece + 1 < pieces.starts.length; piece++) largest = Math.max(largest, pieces.starts[piece + 1]! - pieces.starts[piece]!);
  const minArea = Math.max(9 / (block * block), largest * minPieceShare);
  for (let piece = 0; piece + 1 < pieces.starts.length; piece++) {
    const start = pieces.starts[piece]!;
    const end = pieces.starts[piece + 1]!;
    if (end - start < minArea) for (let cursor = start; cursor < end; cursor++) background[pieces.pixels[cursor]!] = BACKGROUND;
  }
  return largest;
}
