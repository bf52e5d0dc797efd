import sharp from 'sharp';

/**
 * The stand-in's "model": it does what the prompt asks of Qwen in the plainest way, by flood
 * filling from the borders every pixel close to the border's colour and painting it white.
 * It regenerates the picture the way Qwen does (new size, optional near-white noise), so the
 * processor is tested against output that is not the input pixel for pixel.
 */
export interface ModelOptions {
  /** Largest per-channel distance from the background colour still counted as background. */
  tolerance: number;
  /** Background pixels are written as 255 minus up to this much, like Qwen's near-white output. */
  noise: number;
  /** Output size; undefined keeps about 1024x1024 pixels at the input's aspect ratio. */
  outputSize?: { width: number; height: number };
  /** How this output strays from the photo (drift.ts); 'none' keeps the product as it was. */
  drift?: DriftMode;
}

/**
 * Ways a generative model redraws the product instead of keeping it (issue 20), one per call:
 * moved and resized in the frame (not drift: registration must undo it), recoloured, its label
 * blurred, an object added on it, a part of it gone, and a prop in front of it removed.
 */
export const driftModes = ['none', 'drift_shift_scale', 'drift_hue', 'drift_label', 'drift_add_object', 'drift_remove_part', 'remove_prop'] as const;
export type DriftMode = (typeof driftModes)[number];

/** The colour the stand-in takes for a prop and removes in `remove_prop` (the occluder fixture's prop). */
export const PROP_RGB: [number, number, number] = [39, 174, 96];

/** Where the input's pixels went: output = scale * input + (dx, dy), in pixels of each, edges at integers. */
export interface Placement {
  scaleX: number;
  scaleY: number;
  dx: number;
  dy: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 255;
}

export async function whitenBackground(input: Buffer, options: ModelOptions): Promise<{ png: Buffer; width: number; height: number; placement: Placement }> {
  const { data, info } = await sharp(input, { limitInputPixels: 10_000 * 10_000 })
    .flatten({ background: '#ffffff' })
    .resize({ width: 1024, height: 1024, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const inputSize = await sharp(input, { limitInputPixels: 10_000 * 10_000 }).metadata();
  const inputWidth = inputSize.autoOrient?.width ?? inputSize.width ?? width;
  const inputHeight = inputSize.autoOrient?.height ?? inputSize.height ?? height;
  const pixel = (x: number, y: number) => (y * width + x) * 3;

  const border: Array<[number, number, number]> = [];
  for (let x = 0; x < width; x++) {
    for (const y of [0, height - 1]) {
      const i = pixel(x, y);
      border.push([data[i]!, data[i + 1]!, data[i + 2]!]);
    }
  }
  for (let y = 0; y < height; y++) {
    for (const x of [0, width - 1]) {
      const i = pixel(x, y);
      border.push([data[i]!, data[i + 1]!, data[i + 2]!]);
    }
  }
  const background = [0, 1, 2].map((channel) => median(border.map((rgb) => rgb[channel]!)));
  const isBackground = (i: number) =>
    Math.abs(data[i]! - background[0]!) <= options.tolerance &&
    Math.abs(data[i + 1]! - background[1]!) <= options.tolerance &&
    Math.abs(data[i + 2]! - background[2]!) <= options.tolerance;

  const visited = new Uint8Array(width * height);
  const stack: number[] = [];
  const push = (x: number, y: number) => {
    const index = y * width + x;
    if (visited[index]) return;
    if (!isBackground(index * 3)) return;
    visited[index] = 1;
    stack.push(index);
  };
  for (let x = 0; x < width; x++) {
    push(x, 0);
    push(x, height - 1);
  }
  for (let y = 0; y < height; y++) {
    push(0, y);
    push(width - 1, y);
  }
  while (stack.length > 0) {
    const index = stack.pop()!;
    const x = index % width;
    const y = (index - x) / width;
    if (x > 0) push(x - 1, y);
    if (x < width - 1) push(x + 1, y);
    if (y > 0) push(x, y - 1);
    if (y < height - 1) push(x, y + 1);
  }
  // Backdrop seen through the product (a mug's handle) goes white too, as Qwen clears it:
  // enclosed regions of the backdrop's colour larger than a speck.
  const minHole = Math.max(25, Math.round(width * height * 0.0005));
  for (let seed = 0; seed < visited.length; seed++) {
    if (visited[seed] || !isBackground(seed * 3)) continue;
    const region = [seed];
    visited[seed] = 2;
    for (let cursor = 0; cursor < region.length; cursor++) {
      const index = region[cursor]!;
      const x = index % width;
      for (const next of [x > 0 ? index - 1 : -1, x < width - 1 ? index + 1 : -1, index - width, index + width]) {
        if (next < 0 || next >= visited.length || visited[next] || !isBackground(next * 3)) continue;
        visited[next] = 2;
        region.push(next);
      }
    }
    if (region.length < minHole) for (const index of region) visited[index] = 3;
  }
  const drift = options.drift ?? 'none';
  if (drift === 'remove_prop') {
    // The prompt asks for the product only: a prop standing in front of it goes white too.
    for (let index = 0; index < visited.length; index++) {
      const at = index * 3;
      if (Math.abs(data[at]! - PROP_RGB[0]) <= 40 && Math.abs(data[at + 1]! - PROP_RGB[1]) <= 40 && Math.abs(data[at + 2]! - PROP_RGB[2]) <= 40) visited[index] = 1;
    }
  }
  for (let index = 0; index < visited.length; index++) {
    if (visited[index] !== 1 && visited[index] !== 2) continue;
    const shade = options.noise > 0 ? 255 - Math.floor(Math.random() * (options.noise + 1)) : 255;
    data[index * 3] = shade;
    data[index * 3 + 1] = shade;
    data[index * 3 + 2] = shade;
  }
  redraw(data, width, height, visited, drift, options.noise);

  let outWidth = width;
  let outHeight = height;
  let placed = { width, height, left: 0, top: 0 };
  if (options.outputSize || drift === 'drift_shift_scale') {
    // Another framing than the input, as Qwen may return: the product is not distorted, it is
    // placed on a canvas of the requested size (centred, or moved and shrunk when drifting).
    outWidth = options.outputSize?.width ?? width;
    outHeight = options.outputSize?.height ?? height;
    const fit = Math.min(outWidth / width, outHeight / height) * (drift === 'drift_shift_scale' ? 0.82 : 1);
    const w = Math.max(1, Math.round(width * fit));
    const h = Math.max(1, Math.round(height * fit));
    const shiftX = drift === 'drift_shift_scale' ? Math.round(outWidth * 0.07) : 0;
    const shiftY = drift === 'drift_shift_scale' ? -Math.round(outHeight * 0.05) : 0;
    placed = {
      width: w,
      height: h,
      left: Math.min(outWidth - w, Math.max(0, Math.floor((outWidth - w) / 2) + shiftX)),
      top: Math.min(outHeight - h, Math.max(0, Math.floor((outHeight - h) / 2) + shiftY)),
    };
  }
  let image = sharp(data, { raw: { width, height, channels: 3 } });
  if (placed.width !== width || placed.height !== height || outWidth !== width || outHeight !== height) {
    const resized = await image.resize({ width: placed.width, height: placed.height, fit: 'fill' }).png().toBuffer();
    image = sharp({ create: { width: outWidth, height: outHeight, channels: 3, background: '#ffffff' } }).composite([{ input: resized, left: placed.left, top: placed.top }]);
  }
  const png = await image.png({ compressionLevel: 3 }).toBuffer();
  return {
    png,
    width: outWidth,
    height: outHeight,
    placement: { scaleX: placed.width / inputWidth, scaleY: placed.height / inputHeight, dx: placed.left, dy: placed.top },
  };
}

/** The product's box in the whitened picture: what is not background. */
function productBox(visited: Uint8Array, width: number, height: number) {
  let left = width;
  let top = height;
  let right = -1;
  let bottom = -1;
  for (let index = 0; index < visited.length; index++) {
    if (visited[index] === 1 || visited[index] === 2) continue;
    const x = index % width;
    const y = (index - x) / width;
    if (x < left) left = x;
    if (x > right) right = x;
    if (y < top) top = y;
    if (y > bottom) bottom = y;
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** The drift modes that change the product's own pixels, drawn in place. */
function redraw(data: Buffer, width: number, height: number, visited: Uint8Array, drift: DriftMode, noise: number): void {
  if (drift === 'none' || drift === 'drift_shift_scale' || drift === 'remove_prop') return;
  const box = productBox(visited, width, height);
  if (!box) return;
  const isProduct = (index: number) => visited[index] !== 1 && visited[index] !== 2;
  switch (drift) {
    case 'drift_hue': {
      // A hue rotation of 60 degrees (the CSS hueRotate matrix): the product in another colour, same lightness.
      const cos = Math.cos(Math.PI / 3);
      const sin = Math.sin(Math.PI / 3);
      const m = [
        0.213 + cos * 0.787 - sin * 0.213, 0.715 - cos * 0.715 - sin * 0.715, 0.072 - cos * 0.072 + sin * 0.928,
        0.213 - cos * 0.213 + sin * 0.143, 0.715 + cos * 0.285 + sin * 0.14, 0.072 - cos * 0.072 - sin * 0.283,
        0.213 - cos * 0.213 - sin * 0.787, 0.715 - cos * 0.715 + sin * 0.715, 0.072 + cos * 0.928 + sin * 0.072,
      ];
      for (let index = 0; index < visited.length; index++) {
        if (!isProduct(index)) continue;
        const at = index * 3;
        const [r, g, b] = [data[at]!, data[at + 1]!, data[at + 2]!];
        for (let c = 0; c < 3; c++) data[at + c] = Math.max(0, Math.min(255, Math.round(m[c * 3]! * r + m[c * 3 + 1]! * g + m[c * 3 + 2]! * b)));
      }
      return;
    }
    case 'drift_label': {
      // The middle of the product, where a label sits, smoothed as a model smooths small text.
      const left = box.left + Math.round(box.width * 0.1);
      const right = box.left + Math.round(box.width * 0.9);
      const top = box.top + Math.round(box.height * 0.25);
      const bottom = box.top + Math.round(box.height * 0.75);
      const radius = Math.max(3, Math.round(box.width * 0.03));
      for (let pass = 0; pass < 3; pass++) boxBlur(data, width, left, top, right, bottom, radius);
      return;
    }
    case 'drift_add_object': {
      // A gold sticker with a dark rim on the product's lower left: an object the photo never had.
      const radius = Math.min(box.width, box.height) * 0.2;
      const cx = box.left + box.width * 0.32;
      const cy = box.top + box.height * 0.68;
      for (let y = Math.floor(cy - radius); y <= Math.ceil(cy + radius); y++) {
        for (let x = Math.floor(cx - radius); x <= Math.ceil(cx + radius); x++) {
          const distance = Math.hypot(x - cx, y - cy);
          if (distance > radius || x < 0 || y < 0 || x >= width || y >= height) continue;
          const at = (y * width + x) * 3;
          const rim = distance > radius * 0.85;
          data[at] = rim ? 60 : 241;
          data[at + 1] = rim ? 40 : 196;
          data[at + 2] = rim ? 10 : 15;
        }
      }
      return;
    }
    case 'drift_remove_part': {
      // The product's top quarter (a bottle's neck and cap) is gone: white like the background.
      const bottom = box.top + Math.round(box.height * 0.25);
      for (let y = box.top; y < bottom; y++) {
        for (let x = box.left; x < box.left + box.width; x++) {
          const shade = noise > 0 ? 255 - Math.floor(Math.random() * (noise + 1)) : 255;
          const at = (y * width + x) * 3;
          data[at] = shade;
          data[at + 1] = shade;
          data[at + 2] = shade;
        }
      }
      return;
    }
  }
}

/** A box blur of the region, separable (a running sum along rows, then columns), edges clamped. */
function boxBlur(data: Buffer, width: number, left: number, top: number, right: number, bottom: number, radius: number): void {
  const w = right - left;
  const h = bottom - top;
  const line = new Float32Array(Math.max(w, h));
  const pass = (count: number, lines: number, at: (line: number, i: number) => number) => {
    for (let l = 0; l < lines; l++) {
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < count; i++) line[i] = data[at(l, i) + c]!;
        let sum = 0;
        for (let i = -radius; i <= radius; i++) sum += line[Math.min(count - 1, Math.max(0, i))]!;
        for (let i = 0; i < count; i++) {
          data[at(l, i) + c] = Math.round(sum / (2 * radius + 1));
          sum += line[Math.min(count - 1, i + radius + 1)]! - line[Math.max(0, i - radius)]!;
        }
      }
    }
  };
  pass(w, h, (row, i) => ((top + row) * width + left + i) * 3);
  pass(h, w, (column, i) => ((top + i) * width + left + column) * 3);
}
