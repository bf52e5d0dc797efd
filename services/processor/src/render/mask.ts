/**
 * The product mask from Qwen's white-background output. Background is what is near-white and
 * connected to the picture's border (a flood fill), so white parts inside the product, such as a
 * label, stay product. The boundary is softened over one pixel so edges are anti-aliased.
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
  /** One byte per pixel, 0 = background, 255 = product. */
  alpha: Uint8Array;
  box: Box | null;
}

export interface MaskOptions {
  /** A pixel whose darkest channel is at least this is near-white. */
  whiteThreshold: number;
  /** ...and whose channels differ by at most this (a pale colour is not background). */
  maxChroma: number;
}

export const defaultMaskOptions: MaskOptions = { whiteThreshold: 236, maxChroma: 14 };

export function maskFromWhiteBackground(rgb: Uint8Array, width: number, height: number, channels = 3, options = defaultMaskOptions): ProductMask {
  const count = width * height;
  const nearWhite = new Uint8Array(count);
  for (let index = 0, offset = 0; index < count; index++, offset += channels) {
    const r = rgb[offset]!;
    const g = rgb[offset + 1]!;
    const b = rgb[offset + 2]!;
    const low = Math.min(r, g, b);
    const high = Math.max(r, g, b);
    nearWhite[index] = low >= options.whiteThreshold && high - low <= options.maxChroma ? 1 : 0;
  }

  const background = new Uint8Array(count);
  const stack = new Int32Array(count);
  let size = 0;
  const seed = (index: number) => {
    if (nearWhite[index] && !background[index]) {
      background[index] = 1;
      stack[size++] = index;
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  while (size > 0) {
    const index = stack[--size]!;
    const x = index % width;
    if (x > 0) seed(index - 1);
    if (x < width - 1) seed(index + 1);
    if (index >= width) seed(index - width);
    if (index < count - width) seed(index + width);
  }

  const alpha = new Uint8Array(count);
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const index = y * width + x;
      if (background[index]) continue;
      alpha[index] = 255;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  if (right < 0) return { width, height, alpha, box: null };

  // Soften the boundary: a product pixel touching background takes the mean of its 3x3 block.
  const soft = alpha.slice();
  for (let y = Math.max(1, top); y <= Math.min(height - 2, bottom); y++) {
    for (let x = Math.max(1, left); x <= Math.min(width - 2, right); x++) {
      const index = y * width + x;
      if (!alpha[index]) continue;
      if (alpha[index - 1] && alpha[index + 1] && alpha[index - width] && alpha[index + width]) continue;
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += alpha[index + dy * width + dx]!;
      soft[index] = Math.max(64, Math.round(sum / 9));
    }
  }
  return { width, height, alpha: soft, box: { left, top, width: right - left + 1, height: bottom - top + 1 } };
}

/** The product cut out as straight (non-premultiplied) RGBA, cropped to its box. */
export function cutoutRgba(rgb: Uint8Array, mask: ProductMask, channels = 3): { data: Buffer; width: number; height: number } {
  const box = mask.box;
  if (!box) throw new Error('no product in the mask');
  const data = Buffer.alloc(box.width * box.height * 4);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const source = (box.top + y) * mask.width + box.left + x;
      const target = (y * box.width + x) * 4;
      data[target] = rgb[source * channels]!;
      data[target + 1] = rgb[source * channels + 1]!;
      data[target + 2] = rgb[source * channels + 2]!;
      data[target + 3] = mask.alpha[source]!;
    }
  }
  return { data, width: box.width, height: box.height };
}
