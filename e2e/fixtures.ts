import AdmZip from 'adm-zip';
import sharp from 'sharp';

/**
 * Product photos made on the spot: a saturated product on a grey studio backdrop, the kind of
 * picture a seller takes, in the sizes and shapes the tests need.
 */
export interface PhotoOptions {
  width: number;
  height: number;
  colour: string;
  shape: 'box' | 'bottle' | 'disc';
  backdrop?: string;
}

export async function productPhoto(options: PhotoOptions): Promise<Buffer> {
  const { width, height, colour, shape } = options;
  const backdrop = options.backdrop ?? '#d8d8d8';
  const w = width;
  const h = height;
  const body =
    shape === 'box'
      ? `<rect x="${w * 0.3}" y="${h * 0.2}" width="${w * 0.4}" height="${h * 0.6}" rx="12" fill="${colour}"/>
         <rect x="${w * 0.36}" y="${h * 0.35}" width="${w * 0.28}" height="${h * 0.12}" fill="#ffffff"/>`
      : shape === 'bottle'
        ? `<rect x="${w * 0.42}" y="${h * 0.1}" width="${w * 0.16}" height="${h * 0.2}" fill="${colour}"/>
           <rect x="${w * 0.35}" y="${h * 0.28}" width="${w * 0.3}" height="${h * 0.62}" rx="30" fill="${colour}"/>`
        : `<ellipse cx="${w / 2}" cy="${h / 2}" rx="${w * 0.35}" ry="${h * 0.25}" fill="${colour}"/>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="100%" height="100%" fill="${backdrop}"/>${body}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}

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
const binaryBody: Parser = (res, callback) => {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
};

/** A signed-in GET whose answer (a ZIP, a picture) is kept as one Buffer in `body`. */
export function getBinary(api: ReturnType<typeof import('supertest')>, path: string, token: string): import('supertest').Test {
  return api.get(path).set('authorization', `Bearer ${token}`).buffer(true).parse(binaryBody);
}
