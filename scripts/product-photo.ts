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
