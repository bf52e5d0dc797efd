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
};

/** The seller's photo at the Qwen output's size, decoded only when a hole must be decided. */
export type BackdropSource = () => Promise<Uint8Array | null>;

const BACKGROUND = 1;

export async function productMask(
  rgb: Uint8Array,
  width: number,
  height: number,
  channels: number,
  original?: BackdropSource,
  options: MaskOptions = defaultMaskOptions,
): Promise<ProductMask> {
  const count = width * height;
  const pixel: Pixel = { rgb, channels };
  const { backgroundLevel, floor } = measureBackground(pixel, width, height, options);
  const backgroundLike = new Uint8Array(count);
  for (let index = 0; index < count; index++) if (levelAt(pixel, index) >= floor && chromaAt(pixel, index) <= options.maxChroma) backgroundLike[index] = 1;

  // Memory matters here (two render threads, pictures of 4 MP): one index array of the
  // picture's size serves every walk in turn (stack, queue, regions) and the flag arrays are
  // reused once their pass is over.
  const scratch = new Int32Array(count);
  const background = new Uint8Array(count);
  floodFromBorder(background, width, height, backgroundLike, scratch);
  growIntoSoftShadows(background, pixel, width, height, backgroundLevel, floor, options, scratch);
  await clearHoles(background, width, height, backgroundLike, original, options, scratch);
  removeSpecks(background, width, height, options.minPieceShare, scratch, backgroundLike);

  // The background becomes the alpha in place: 0 where background, 255 where product.
  const alpha = background;
  for (let index = 0; index < count; index++) alpha[index] = alpha[index] ? 0 : 255;
  return { width, height, alpha, box: boxOf(alpha, width, height), backgroundLevel };
}

/** The bounding box of the pixels whose alpha is not 0, or null when there are none. */
export function boxOf(alpha: Uint8Array, width: number, height: number): Box | null {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0, index = 0; y < height; y++) {
    for (let x = 0; x < width; x++, index++) {
      if (!alpha[index]) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** The decoded picture; levels are read from it where needed rather than copied out. */
interface Pixel {
  rgb: Uint8Array;
  channels: number;
}

/** The darkest channel: how far from white a pixel is. */
function levelAt({ rgb, channels }: Pixel, index: number): number {
  const offset = index * channels;
  return Math.min(rgb[offset]!, rgb[offset + 1]!, rgb[offset + 2]!);
}

/** How far apart the channels are: 0 for greys, white included. */
function chromaAt({ rgb, channels }: Pixel, index: number): number {
  const offset = index * channels;
  const r = rgb[offset]!;
  const g = rgb[offset + 1]!;
  const b = rgb[offset + 2]!;
  return Math.max(r, g, b) - Math.min(r, g, b);
}

function measureBackground(pixel: Pixel, width: number, height: number, options: MaskOptions) {
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
function growIntoSoftShadows(
  background: Uint8Array, pixel: Pixel, width: number, height: number,
  backgroundLevel: number, floor: number, options: MaskOptions, queue: Int32Array,
): void {
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
}

/**
 * Connected regions (4-neighbour) of the pixels where `member` is 1, as runs in `pixels` (a
 * scratch array of the picture's size, reused across passes to keep memory down). Visited
 * pixels are marked 2 in `member`, which is the caller's own temporary array.
 */
function regions(width: number, height: number, member: Uint8Array, pixels: Int32Array): { pixels: Int32Array; starts: number[] } {
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
  backgroundLike: Uint8Array, original: BackdropSource | undefined, options: MaskOptions, scratch: Int32Array,
): Promise<void> {
  if (!original) return;
  const minArea = Math.max(25, Math.round(width * height * options.minHoleShare));
  // backgroundLike becomes the candidates: its flood is over.
  const candidate = backgroundLike;
  for (let index = 0; index < candidate.length; index++) candidate[index] = !background[index] && candidate[index] ? 1 : 0;
  const enclosed = regions(width, height, candidate, scratch);
  const candidates: Array<[number, number]> = [];
  for (let region = 0; region + 1 < enclosed.starts.length; region++) {
    const start = enclosed.starts[region]!;
    const end = enclosed.starts[region + 1]!;
    if (end - start >= minArea) candidates.push([start, end]);
  }
  if (candidates.length === 0) return;
  const photo = await original();
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

function removeSpecks(background: Uint8Array, width: number, height: number, minPieceShare: number, scratch: Int32Array, spare: Uint8Array): void {
  const product = spare;
  for (let index = 0; index < product.length; index++) product[index] = background[index] ? 0 : 1;
  const pieces = regions(width, height, product, scratch);
  let largest = 0;
  for (let piece = 0; piece + 1 < pieces.starts.length; piece++) largest = Math.max(largest, pieces.starts[piece + 1]! - pieces.starts[piece]!);
  const minArea = Math.max(9, largest * minPieceShare);
  for (let piece = 0; piece + 1 < pieces.starts.length; piece++) {
    const start = pieces.starts[piece]!;
    const end = pieces.starts[piece + 1]!;
    if (end - start < minArea) for (let cursor = start; cursor < end; cursor++) background[pieces.pixels[cursor]!] = BACKGROUND;
  }
}
