import sharp from 'sharp';

/**
 * Small generated pictures for the render's pixel tests: what Qwen returns (a product on white,
 * with the near-white noise and JPEG artefacts real outputs have) and the seller's photo behind
 * it (the same product on a studio backdrop). Products are SVG, so their edges are anti-aliased
 * as a photo's are.
 */
export const BLUE = '#1e3cc8';

export const shapes = {
  /** Taller than wide, but not narrow: `auto` gives it a drop shadow. */
  box: (w: number, h: number) => `<rect x="${w * 0.3}" y="${h * 0.2}" width="${w * 0.4}" height="${h * 0.6}" fill="${BLUE}"/>`,
  /** Very wide: `auto` gives it a natural shadow. */
  wide: (w: number, h: number) => `<rect x="${w * 0.1}" y="${h * 0.4}" width="${w * 0.8}" height="${h * 0.2}" fill="${BLUE}"/>`,
  /** Tall and narrow: `auto` gives it a reflection. */
  tall: (w: number, h: number) => `<rect x="${w * 0.42}" y="${h * 0.1}" width="${w * 0.16}" height="${h * 0.8}" fill="${BLUE}"/>`,
  /** Blue above, a red band at its base: a mirror shows red first. */
  banded: (w: number, h: number) =>
    `<rect x="${w * 0.3}" y="${h * 0.2}" width="${w * 0.4}" height="${h * 0.5}" fill="${BLUE}"/><rect x="${w * 0.3}" y="${h * 0.7}" width="${w * 0.4}" height="${h * 0.1}" fill="#d02020"/>`,
  /** A mug: body and a ring handle with a hole showing what is behind. */
  mug: (w: number, h: number) =>
    `<rect x="${w * 0.25}" y="${h * 0.25}" width="${w * 0.4}" height="${h * 0.5}" fill="${BLUE}"/>` +
    `<circle cx="${w * 0.68}" cy="${h * 0.5}" r="${h * 0.14}" fill="none" stroke="${BLUE}" stroke-width="${h * 0.06}"/>`,
  /** A body with a white cap whose edge is part of the product's outline. */
  whiteCap: (w: number, h: number) =>
    `<rect x="${w * 0.3}" y="${h * 0.3}" width="${w * 0.4}" height="${h * 0.5}" fill="${BLUE}"/><rect x="${w * 0.35}" y="${h * 0.15}" width="${w * 0.3}" height="${h * 0.15}" fill="rgb(240,240,240)"/>`,
  /** A box with a white label inside its outline. */
  labelled: (w: number, h: number) =>
    `<rect x="${w * 0.3}" y="${h * 0.2}" width="${w * 0.4}" height="${h * 0.6}" fill="${BLUE}"/><rect x="${w * 0.36}" y="${h * 0.4}" width="${w * 0.28}" height="${h * 0.15}" fill="#ffffff"/>`,
  /** A red disc: anti-aliased all round. */
  disc: (w: number, h: number) => `<circle cx="${w / 2}" cy="${h / 2}" r="${Math.min(w, h) * 0.3}" fill="rgb(200,30,30)"/>`,
};
export type Shape = keyof typeof shapes;

export interface QwenLikeOptions {
  width?: number;
  height?: number;
  /** Background pixels lose up to this much, at random (seeded), as Qwen's "white" does. */
  noise?: number;
  /** Encode as JPEG of this quality instead of PNG. */
  jpegQuality?: number;
  /** Extra SVG drawn under the product: a shadow Qwen left, say. */
  under?: string;
}

function svg(width: number, height: number, backdrop: string, body: string): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${backdrop}"/>${body}</svg>`);
}

export function qwenLike(shape: Shape, options: QwenLikeOptions = {}): Promise<Buffer> {
  const width = options.width ?? 600;
  const height = options.height ?? 600;
  return qwenLikeDrawing(shapes[shape](width, height), options);
}

/** A Qwen-like output of any SVG drawing (a product the shapes above do not have). */
export async function qwenLikeDrawing(body: string, options: QwenLikeOptions = {}): Promise<Buffer> {
  const width = options.width ?? 600;
  const height = options.height ?? 600;
  const { data } = await sharp(svg(width, height, '#ffffff', (options.under ?? '') + body))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (options.noise) {
    let seed = 12345;
    for (let offset = 0; offset < data.length; offset += 3) {
      if (data[offset] !== 255 || data[offset + 1] !== 255 || data[offset + 2] !== 255) continue;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const shade = 255 - (seed % (options.noise + 1));
      data[offset] = shade;
      data[offset + 1] = shade;
      data[offset + 2] = shade;
    }
  }
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  return options.jpegQuality ? image.jpeg({ quality: options.jpegQuality }).toBuffer() : image.png().toBuffer();
}

/** The seller's photo behind a Qwen output: the same product on a backdrop. */
export function sellerPhoto(shape: Shape, backdrop: string, width = 600, height = 600): Promise<Buffer> {
  return sellerPhotoOfDrawing(shapes[shape](width, height), backdrop, width, height);
}

export function sellerPhotoOfDrawing(body: string, backdrop: string, width = 600, height = 600): Promise<Buffer> {
  return sharp(svg(width, height, backdrop, body)).jpeg({ quality: 92 }).toBuffer();
}

export interface Pixels {
  width: number;
  height: number;
  at(x: number, y: number): [number, number, number];
  /** The bounding box of the pixels `accepts` takes, or null. */
  boxWhere(accepts: (rgb: [number, number, number]) => boolean): { left: number; top: number; right: number; bottom: number } | null;
}

export async function pixelsOf(bytes: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(bytes).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): [number, number, number] => {
    const offset = (y * info.width + x) * info.channels;
    return [data[offset]!, data[offset + 1]!, data[offset + 2]!];
  };
  return {
    width: info.width,
    height: info.height,
    at,
    boxWhere(accepts) {
      let left = info.width;
      let top = info.height;
      let right = -1;
      let bottom = -1;
      for (let y = 0; y < info.height; y++) {
        for (let x = 0; x < info.width; x++) {
          if (!accepts(at(x, y))) continue;
          left = Math.min(left, x);
          right = Math.max(right, x);
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
        }
      }
      return right < 0 ? null : { left, top, right, bottom };
    },
  };
}

/** The product's own blue (and not a faded copy of it). */
export const isBlueProduct = ([r, g, b]: [number, number, number]) => r < 90 && g < 110 && b > 150;
export const isWhite = ([r, g, b]: [number, number, number]) => r === 255 && g === 255 && b === 255;
/** Rounded, so white is 255 whatever the weights' floating point makes of it. */
export const luminance = ([r, g, b]: [number, number, number]) => Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
