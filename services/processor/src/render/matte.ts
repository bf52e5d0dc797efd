import { boxOf, type Box, type ProductMask } from './mask';

/**
 * Edges without fringes. A boundary pixel of Qwen's output is a mix of the product and the white
 * behind it; kept as it is, it draws a light ring on any other background and a grey one under a
 * shadow. Its alpha is recovered from how far it is from white relative to the product colour
 * just inside it (the matting equation C = a*F + (1-a)*W solved for a known W), and its colour
 * becomes that product colour.
 */
export interface Cutout {
  /** Straight (not premultiplied) RGBA, cropped to the product. */
  data: Buffer;
  width: number;
  height: number;
}

/** Below this distance from white a product colour cannot tell its edge from the background. */
const MIN_CONTRAST = 40;
const MIN_SHARE = 0.12;

/** The cutout, and the final alpha over the whole frame (the mask the editor starts from). */
export interface Matted {
  cutout: Cutout;
  alpha: Uint8Array;
}

interface Frame {
  rgb: Uint8Array;
  channels: number;
  width: number;
  height: number;
}

/** The automatic mask's cutout: boundary pixels matted against the measured white. */
export function matteAgainstWhite(frame: Frame, mask: ProductMask): Matted | null {
  if (!mask.box) return null;
  const box = mask.box;
  const alpha = mask.alpha.slice();
  const colour = new EdgeColours();
  const white = mask.backgroundLevel;
  forEachEdge(frame, mask.alpha, box, (index, inside, depth) => {
    const offset = index * frame.channels;
    if (!inside) {
      if (depth === 1) alpha[index] = softened(mask.alpha, frame.width, frame.height, index);
      return;
    }
    let channel = 0;
    for (let c = 1; c < 3; c++) if (inside[c]! < inside[channel]!) channel = c;
    const contrast = white - inside[channel]!;
    if (contrast < MIN_CONTRAST) {
      if (depth === 1) alpha[index] = softened(mask.alpha, frame.width, frame.height, index);
      return;
    }
    const share = Math.min(1, Math.max(0, (white - frame.rgb[offset + channel]!) / contrast));
    // A few percent is JPEG ringing in the white, not product.
    alpha[index] = share < MIN_SHARE ? 0 : Math.round(share * 255);
    colour.set(index, inside);
  });
  return crop(frame, alpha, colour, box);
}

/** A seller's own mask (white = product, grey = partly): its soft pixels take the colour inside. */
export function cutoutFromAlpha(frame: Frame, alpha: Uint8Array): Matted | null {
  const box = boxOf(alpha, frame.width, frame.height);
  if (!box) return null;
  const colour = new EdgeColours();
  forEachEdge(frame, alpha, box, (index, inside) => {
    if (inside) colour.set(index, inside);
  });
  return crop(frame, alpha, colour, box);
}

/** How deep into the product the edge band goes: anti-aliasing and JPEG ringing reach two pixels. */
const BAND = 2;
/** How far around an edge pixel to look for the product's own colour. */
const REACH = BAND + 2;

/**
 * Calls `visit` for every pixel in the product's edge band (partly opaque, or within BAND
 * pixels of a transparent one) with the mean colour of the fully inside pixels around it, or
 * null for a part too thin to have an inside. Only the product's box (and the pixel around it)
 * is walked: outside it everything is transparent.
 */
function forEachEdge(frame: Frame, alpha: Uint8Array, box: Box, visit: (index: number, inside: [number, number, number] | null, depth: number) => void): void {
  const { width, height, rgb, channels } = frame;
  const left = Math.max(0, box.left - 1);
  const top = Math.max(0, box.top - 1);
  const regionWidth = Math.min(width, box.left + box.width + 1) - left;
  const regionHeight = Math.min(height, box.top + box.height + 1) - top;
  // Depth into the product, counted in 8-neighbour steps from the nearest transparent pixel;
  // indexed within the region.
  const depth = new Uint8Array(regionWidth * regionHeight).fill(255);
  // Only the band around the outline is walked: a list that grows, not an array of the picture's size.
  const queue: number[] = [];
  let head = 0;
  // Only transparent pixels beside the product start the walk: the rest of the background is far from it.
  const count = width * height;
  for (let localY = 0, local = 0; localY < regionHeight; localY++) {
    for (let localX = 0, x = left, index = (top + localY) * width + left; localX < regionWidth; localX++, local++, x++, index++) {
      if (alpha[index] !== 0) {
        if (alpha[index]! < 255) depth[local] = 1;
        continue;
      }
      depth[local] = 0;
      const besideProduct =
        (x > 0 && alpha[index - 1] !== 0) || (x < width - 1 && alpha[index + 1] !== 0) ||
        (index >= width && alpha[index - width] !== 0) || (index < count - width && alpha[index + width] !== 0) ||
        (x > 0 && index >= width && alpha[index - width - 1] !== 0) || (x < width - 1 && index >= width && alpha[index - width + 1] !== 0) ||
        (x > 0 && index < count - width && alpha[index + width - 1] !== 0) || (x < width - 1 && index < count - width && alpha[index + width + 1] !== 0);
      if (besideProduct) queue.push(local);
    }
  }
  while (head < queue.length) {
    const local = queue[head++]!;
    const next = depth[local]! + 1;
    if (next > BAND + 1) continue;
    const x = local % regionWidth;
    const y = (local - x) / regionWidth;
    for (let dy = -1; dy <= 1; dy++) {
      const row = y + dy;
      if (row < 0 || row >= regionHeight) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const column = x + dx;
        if (column < 0 || column >= regionWidth) continue;
        const neighbour = row * regionWidth + column;
        if (depth[neighbour]! <= next) continue;
        depth[neighbour] = next;
        queue.push(neighbour);
      }
    }
  }
  for (let y = 0, local = 0; y < regionHeight; y++) {
    for (let x = 0; x < regionWidth; x++, local++) {
      const level = depth[local]!;
      if (level === 0 || level > BAND) continue;
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let dy = -REACH; dy <= REACH; dy++) {
        const row = y + dy;
        if (row < 0 || row >= regionHeight) continue;
        for (let dx = -REACH; dx <= REACH; dx++) {
          const column = x + dx;
          if (column < 0 || column >= regionWidth) continue;
          if (depth[row * regionWidth + column]! <= BAND) continue;
          const offset = ((top + row) * width + left + column) * channels;
          r += rgb[offset]!;
          g += rgb[offset + 1]!;
          b += rgb[offset + 2]!;
          n++;
        }
      }
      visit((top + y) * width + left + x, n ? [Math.round(r / n), Math.round(g / n), Math.round(b / n)] : null, level);
    }
  }
}

/** New colours for edge pixels: few against the picture, kept as a list and written after the crop. */
class EdgeColours {
  readonly indices: number[] = [];
  readonly rgb: number[] = [];

  set(index: number, [r, g, b]: [number, number, number]): void {
    this.indices.push(index);
    this.rgb.push(r, g, b);
  }
}

/** A one-pixel anti-aliasing for edges that cannot be matted: the mean of the 3x3 block. */
function softened(alpha: Uint8Array, width: number, height: number, index: number): number {
  const x = index % width;
  const y = (index - x) / width;
  let sum = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const column = x + dx;
      const row = y + dy;
      if (column >= 0 && column < width && row >= 0 && row < height) sum += alpha[row * width + column]!;
    }
  }
  return Math.max(64, Math.round(sum / 9));
}

/** The cutout of the product's box (matting only ever lowers alpha inside `within`, the mask's box). */
function crop(frame: Frame, alpha: Uint8Array, colour: EdgeColours, within: Box): Matted | null {
  const box = boxOf(alpha, frame.width, frame.height, within);
  if (!box) return null;
  const data = Buffer.alloc(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const source = (box.top + y) * frame.width + box.left + x;
      const target = (y * box.width + x) * 4;
      const offset = source * frame.channels;
      data[target] = frame.rgb[offset]!;
      data[target + 1] = frame.rgb[offset + 1]!;
      data[target + 2] = frame.rgb[offset + 2]!;
      data[target + 3] = alpha[source]!;
    }
  }
  for (let edge = 0; edge < colour.indices.length; edge++) {
    const source = colour.indices[edge]!;
    const x = (source % frame.width) - box.left;
    const y = Math.floor(source / frame.width) - box.top;
    if (x < 0 || y < 0 || x >= box.width || y >= box.height) continue;
    const target = (y * box.width + x) * 4;
    data[target] = colour.rgb[edge * 3]!;
    data[target + 1] = colour.rgb[edge * 3 + 1]!;
    data[target + 2] = colour.rgb[edge * 3 + 2]!;
  }
  return { cutout: { data, width: box.width, height: box.height }, alpha };
}
