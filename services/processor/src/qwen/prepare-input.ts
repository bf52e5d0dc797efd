import { readPictureHeader, uprightJpeg } from '@masterpost/platform';

/**
 * Makes a photo acceptable to DashScope: upright (EXIF applied), sRGB, flattened on white (the
 * model takes no alpha), each side within 384..3072 px (the longest at most 2048, see below), and
 * under 10 MB once base64-encoded.
 */
export const INPUT_LIMITS = { minSide: 384, maxSide: 3072, maxEncodedBytes: 10 * 1024 * 1024 };

/**
 * The longest side we send, below the provider's 3072: the models give back at most 2048 px a
 * side, so a larger input brings no pixel more and costs upload time and, with four photos being
 * prepared at once, over a hundred MiB of the processor's memory (BENCHMARKS.md).
 */
export const SENT_MAX_SIDE = 2048;

export class UnusableInputError extends Error {}

export interface PreparedInput {
  bytes: Buffer;
  mime: 'image/jpeg';
  width: number;
  height: number;
}

/** A very narrow picture may go past maxSide (up to the provider's 3072) to keep its short side at 384. */
export function fitIntoQwenBounds(width: number, height: number, maxSide = SENT_MAX_SIDE): { width: number; height: number } {
  let scale = 1;
  if (Math.max(width, height) > maxSide) scale = maxSide / Math.max(width, height);
  if (Math.min(width, height) * scale < INPUT_LIMITS.minSide) scale = INPUT_LIMITS.minSide / Math.min(width, height);
  const fitted = { width: Math.round(width * scale), height: Math.round(height * scale) };
  if (Math.max(fitted.width, fitted.height) > INPUT_LIMITS.maxSide) {
    throw new UnusableInputError(
      `a ${width}x${height} picture is too narrow for the AI provider (sides must be ${INPUT_LIMITS.minSide} to ${INPUT_LIMITS.maxSide} px)`,
    );
  }
  return fitted;
}

/**
 * `scale` below 1 makes the picture that much smaller than it would otherwise be sent (after a
 * 413), never below the provider's smallest side.
 */
export async function prepareQwenInput(original: Buffer, scale = 1, maxSide = SENT_MAX_SIDE): Promise<PreparedInput> {
  const { width, height } = await readPictureHeader(original);
  const fitted = fitIntoQwenBounds(width, height, maxSide);
  const target = scale < 1 ? fitIntoQwenBounds(Math.round(fitted.width * scale), Math.round(fitted.height * scale), maxSide) : fitted;
  for (const quality of [92, 85, 75]) {
    const bytes = await uprightJpeg(original, target, quality);
    // base64 grows the payload by a third; the limit applies to what is sent.
    if (Math.ceil(bytes.length / 3) * 4 <= INPUT_LIMITS.maxEncodedBytes) return { bytes, mime: 'image/jpeg', ...target };
  }
  if (maxSide * 0.7 < INPUT_LIMITS.minSide) throw new UnusableInputError('the picture cannot be made small enough for the AI provider');
  return prepareQwenInput(original, scale, Math.round(maxSide * 0.7));
}
