import AdmZip from 'adm-zip';
import sharp from 'sharp';

// Made by the same generator the gallery seed and the sheet use.
export { productPhoto, type PhotoOptions } from '../scripts/product-photo';

export function zipOf(files: Array<{ name: string; data: Buffer }>): Buffer {
  const zip = new AdmZip();
  for (const file of files) zip.addFile(file.name, file.data);
  return zip.toBuffer();
}

/** Reads every pixel once: the bounding box of what is not (near) white, and whether the border is pure white. */
export async function inspectPicture(bytes: Buffer): Promise<{
  width: number;
  height: number;
  format: string | undefined;
  borderPureWhite: boolean;
  box: { left: number; top: number; width: number; height: number } | null;
}> {
  const metadata = await sharp(bytes).metadata();
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  let borderPureWhite = true;
  let left = width;
  let right = -1;
  let top = height;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * channels;
      const r = data[offset]!;
      const g = data[offset + 1]!;
      const b = data[offset + 2]!;
      const onBorder = x === 0 || y === 0 || x === width - 1 || y === height - 1;
      if (onBorder && (r !== 255 || g !== 255 || b !== 255)) borderPureWhite = false;
      if (Math.min(r, g, b) < 235) {
        if (x < left) left = x;
        if (x > right) right = x;
        if (y < top) top = y;
        if (y > bottom) bottom = y;
      }
    }
  }
  return {
    width,
    height,
    format: metadata.format,
    borderPureWhite,
    box: right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 },
  };
}

type Parser = Extract<Parameters<import('supertest').Test['parse']>[0], (res: never, callback: never) => void>;
export const binaryBody: Parser = (res, callback) => {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
};

/** A signed-in GET whose answer (a ZIP, a picture) is kept as one Buffer in `body`. */
export function getBinary(api: ReturnType<typeof import('supertest')>, path: string, token: string): import('supertest').Test {
  return api.get(path).set('authorization', `Bearer ${token}`).buffer(true).parse(binaryBody);
}
