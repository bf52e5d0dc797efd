import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { extensionOf } from '@masterpost/contracts';

/**
 * Proves a file is a picture we can process, by its content: the decoder sharp picks from the
 * bytes must be one we accept, the declared size must be under the pixel cap (checked from the
 * header, before decoding), and a reduced decode must read the whole file without error, which
 * catches truncated and corrupt data at a fraction of a full decode's cost.
 */
export const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif']);
export const MIN_SIDE = 64;

export type VerifyResult =
  | { ok: true; format: string; extension: string; width: number; height: number; sha256: string }
  | { ok: false; code: string; message: string };

export async function verifyImage(data: Buffer, maxPixels: number): Promise<VerifyResult> {
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(data, { limitInputPixels: false }).metadata();
  } catch {
    return { ok: false, code: 'unsupported_file', message: 'this file is not a picture we can read (JPEG, PNG, WebP, TIFF or GIF)' };
  }
  const format = metadata.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.has(format)) {
    return { ok: false, code: 'unsupported_file', message: `${format.toUpperCase()} files are not accepted: upload JPEG, PNG, WebP, TIFF or GIF` };
  }
  const width = metadata.width ?? 0;
  const height = metadata.pageHeight ?? metadata.height ?? 0;
  if (width * height > maxPixels) {
    return { ok: false, code: 'image_too_large', message: `the picture is ${width}x${height} pixels; at most ${maxPixels} pixels are accepted` };
  }
  if (width < MIN_SIDE || height < MIN_SIDE) {
    return { ok: false, code: 'image_too_small', message: `the picture is ${width}x${height} pixels; each side needs at least ${MIN_SIDE}` };
  }
  try {
    await sharp(data, { failOn: 'truncated', limitInputPixels: maxPixels, animated: false })
      .resize({ width: 64, height: 64, fit: 'inside' })
      .raw()
      .toBuffer();
  } catch {
    return { ok: false, code: 'corrupt_image', message: 'the picture is damaged or incomplete and cannot be decoded' };
  }
  const rotated = (metadata.orientation ?? 1) >= 5;
  return {
    ok: true,
    format,
    extension: extensionOf(format),
    width: rotated ? height : width,
    height: rotated ? width : height,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}
