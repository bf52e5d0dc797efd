import sharp from 'sharp';

/**
 * The one adapter over sharp (libvips) for reading and preparing pictures outside the renderer:
 * upload verification, the editor's mask check, the AI input's preparation and the check of what
 * the AI sent back. The renderer (services/processor/src/render) composes pictures with sharp
 * directly, on its own threads.
 */

/** A picture's header, read without decoding its pixels. */
export interface PictureHeader {
  /** The decoder libvips picked from the bytes ('jpeg', 'png', 'webp', 'tiff', 'gif', 'heif'...). */
  format: string;
  /** As displayed: EXIF orientation applied, one frame of an animation. */
  width: number;
  height: number;
  /** EXIF orientation turns the picture a quarter (its stored width is its displayed height). */
  quarterTurned: boolean;
}

export class UnreadablePictureError extends Error {
  constructor(message = 'not a picture libvips can read') {
    super(message);
    this.name = 'UnreadablePictureError';
  }
}

/**
 * Reads the header only. `maxPixels` refuses a larger picture before anything is decoded (false:
 * read any size, to report it). Throws UnreadablePictureError for bytes that are no picture.
 */
export async function readPictureHeader(bytes: Buffer, maxPixels: number | false = false): Promise<PictureHeader> {
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: maxPixels, animated: false }).metadata();
  } catch (error) {
    throw new UnreadablePictureError((error as Error).message);
  }
  const storedWidth = metadata.width ?? 0;
  const storedHeight = metadata.pageHeight ?? metadata.height ?? 0;
  const quarterTurned = (metadata.orientation ?? 1) >= 5;
  return {
    format: metadata.format ?? 'unknown',
    width: quarterTurned ? storedHeight : storedWidth,
    height: quarterTurned ? storedWidth : storedHeight,
    quarterTurned,
  };
}

/**
 * Whether the whole file decodes: a reduced decode reads every byte, so truncated and corrupt
 * data fail at a fraction of a full decode's cost.
 */
export async function decodesCompletely(bytes: Buffer, maxPixels: number): Promise<boolean> {
  try {
    await sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels, animated: false }).resize({ width: 64, height: 64, fit: 'inside' }).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}

/** The brightest grey level (0-255) of a mask, transparent parts read as black. */
export async function brightestGrey(mask: Buffer, maxPixels: number): Promise<number> {
  try {
    const stats = await sharp(mask, { limitInputPixels: maxPixels }).flatten({ background: '#000000' }).greyscale().stats();
    return stats.channels[0]?.max ?? 0;
  } catch (error) {
    throw new UnreadablePictureError((error as Error).message);
  }
}

/**
 * The picture as the AI provider takes it: turned upright, resized to exactly `size`, on white
 * where it was transparent, sRGB, JPEG at `quality`. Throws on any decoding error (a damaged
 * photo must not reach a paid call).
 */
export async function uprightJpeg(bytes: Buffer, size: { width: number; height: number }, quality: number): Promise<Buffer> {
  return sharp(bytes, { failOn: 'error', animated: false, limitInputPixels: 100_000_000 })
    .rotate()
    .resize({ width: size.width, height: size.height, fit: 'fill' })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .jpeg({ quality })
    .toBuffer();
}

/** A flat `background` picture with one `block` on it, as JPEG: a sample nobody could object to. */
export async function samplePicture(size: number, background: string, block: { width: number; height: number; colour: string }): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background } })
    .composite([
      {
        input: { create: { width: block.width, height: block.height, channels: 3, background: block.colour } },
        left: Math.round((size - block.width) / 2),
        top: Math.round((size - block.height) / 2),
      },
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
}
