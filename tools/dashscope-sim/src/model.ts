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
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 255;
}

export async function whitenBackground(input: Buffer, options: ModelOptions): Promise<{ png: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(input, { limitInputPixels: 10_000 * 10_000 })
    .flatten({ background: '#ffffff' })
    .resize({ width: 1024, height: 1024, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
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
  for (let index = 0; index < visited.length; index++) {
    if (visited[index] !== 1 && visited[index] !== 2) continue;
    const shade = options.noise > 0 ? 255 - Math.floor(Math.random() * (options.noise + 1)) : 255;
    data[index * 3] = shade;
    data[index * 3 + 1] = shade;
    data[index * 3 + 2] = shade;
  }

  let image = sharp(data, { raw: { width, height, channels: 3 } });
  let outWidth = width;
  let outHeight = height;
  if (options.outputSize) {
    // Another framing than the input, as Qwen may return: the product is not distorted, it is
    // placed on a canvas of the requested size.
    outWidth = options.outputSize.width;
    outHeight = options.outputSize.height;
    image = sharp(await image.png().toBuffer()).resize({
      width: outWidth,
      height: outHeight,
      fit: 'contain',
      background: '#ffffff',
    });
  }
  const png = await image.png({ compressionLevel: 3 }).toBuffer();
  return { png, width: outWidth, height: outHeight };
}
