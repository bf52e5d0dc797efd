import sharp from 'sharp';

/**
 * A product photo with what drift destroys: a colour gradient, a label with small dark glyphs,
 * a round logo and a dark cap, on a grey studio backdrop (JPEG, as sellers upload). With
 * `prop`, a green ball stands in front of the product's base: the stand-in's `remove_prop`
 * whitens it, as a model told to keep the product only does.
 */
export interface FidelityPhotoOptions {
  width?: number;
  height?: number;
  prop?: boolean;
}

/** Where the product's body is, as shares of the photo: tests measure inside it. */
export const BODY = { left: 0.32, top: 0.3, right: 0.68, bottom: 0.88 };

export async function fidelityPhoto(options: FidelityPhotoOptions = {}): Promise<Buffer> {
  const w = options.width ?? 1200;
  const h = options.height ?? 1200;
  const glyphs: string[] = [];
  // Three lines of "text": glyphs of one to three strokes, about 7 px wide at 1200 px.
  for (let line = 0; line < 3; line++) {
    let x = w * 0.385;
    const y = h * (0.56 + line * 0.045);
    for (let glyph = 0; glyph < 9; glyph++) {
      const strokes = 1 + ((glyph * 7 + line * 3) % 3);
      for (let stroke = 0; stroke < strokes; stroke++) glyphs.push(`<rect x="${x + stroke * w * 0.009}" y="${y}" width="${w * 0.0055}" height="${h * 0.028}" fill="#17202a"/>`);
      x += strokes * w * 0.009 + w * 0.01;
      if (x > w * 0.6) break;
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <defs><linearGradient id="body" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#922b21"/><stop offset="0.5" stop-color="#e74c3c"/><stop offset="1" stop-color="#a93226"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="#d8d8d8"/>
    <rect x="${w * 0.43}" y="${h * 0.12}" width="${w * 0.14}" height="${h * 0.19}" rx="${w * 0.01}" fill="#1b2631"/>
    <rect x="${w * BODY.left}" y="${h * BODY.top}" width="${w * (BODY.right - BODY.left)}" height="${h * (BODY.bottom - BODY.top)}" rx="${w * 0.03}" fill="url(#body)"/>
    <circle cx="${w * 0.5}" cy="${h * 0.39}" r="${w * 0.045}" fill="#f4d03f" stroke="#1b2631" stroke-width="${w * 0.008}"/>
    <rect x="${w * 0.36}" y="${h * 0.5}" width="${w * 0.28}" height="${h * 0.22}" fill="#fdfefe"/>
    <rect x="${w * 0.37}" y="${h * 0.515}" width="${w * 0.26}" height="${h * 0.025}" fill="#1f618d"/>
    ${glyphs.join('')}
    ${options.prop ? `<circle cx="${w * 0.5}" cy="${h * 0.86}" r="${w * 0.09}" fill="rgb(39,174,96)"/>` : ''}
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer();
}
