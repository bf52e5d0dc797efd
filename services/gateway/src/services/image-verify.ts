import { createHash } from 'node:crypto';
import { acceptedUploadFormats, extensionOf } from '@masterpost/contracts';
import { decodesCompletely, readPictureHeader, type PictureHeader } from '@masterpost/platform';

/**
 * Proves a file is a picture we can process, by its content: the decoder libvips picks from the
 * bytes must be one we accept, the declared size must be under the pixel cap (checked from the
 * header, before decoding), and a reduced decode must read the whole file without error, which
 * catches truncated and corrupt data at a fraction of a full decode's cost.
 */
const ACCEPTED_FORMATS = new Set<string>(acceptedUploadFormats);
export const MIN_SIDE = 64;

export type VerifyResult =
  | { ok: true; format: string; extension: string; width: number; height: number; sha256: string }
  | { ok: false; code: string; message: string };

export async function verifyImage(data: Buffer, maxPixels: number): Promise<VerifyResult> {
  let header: PictureHeader;
  try {
    header = await readPictureHeader(data);
  } catch {
    return { ok: false, code: 'unsupported_file', message: 'this file is not a picture we can read (JPEG, PNG, WebP, TIFF or GIF)' };
  }
  const { format, width, height } = header;
  if (!ACCEPTED_FORMATS.has(format)) {
    return { ok: false, code: 'unsupported_file', message: `${format.toUpperCase()} files are not accepted: upload JPEG, PNG, WebP, TIFF or GIF` };
  }
  if (width * height > maxPixels) {
    return { ok: false, code: 'image_too_large', message: `the picture is ${width}x${height} pixels; at most ${maxPixels} pixels are accepted` };
  }
  if (width < MIN_SIDE || height < MIN_SIDE) {
    return { ok: false, code: 'image_too_small', message: `the picture is ${width}x${height} pixels; each side needs at least ${MIN_SIDE}` };
  }
  if (!(await decodesCompletely(data, maxPixels))) {
    return { ok: false, code: 'corrupt_image', message: 'the picture is damaged or incomplete and cannot be decoded' };
  }
  return {
    ok: true,
    format,
    extension: extensionOf(format),
    width,
    height,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}
