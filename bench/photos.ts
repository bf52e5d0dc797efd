import { randomBytes } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import archiver from 'archiver';
import sharp from 'sharp';

/** A phone-sized photo: 4000x3000 with sensor-like noise, about 3 MiB as JPEG. */
export async function phonePhoto(colour = '#8e44ad'): Promise<Buffer> {
  return sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#c8c8c8', noise: { type: 'gaussian', mean: 180, sigma: 11 } } })
    .composite([{ input: { create: { width: 1400, height: 2000, channels: 3, background: colour } }, left: 1300, top: 500 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The same photo made distinct by a JPEG comment segment right after the start marker. */
export function variant(photo: Buffer, index: number): Buffer {
  const text = Buffer.from(`masterpost bench ${index} ${randomBytes(4).toString('hex')}`);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([photo.subarray(0, 2), segment, text, photo.subarray(2)]);
}

/** A stored (uncompressed) ZIP written to disk entry by entry. */
export async function zipToDisk(file: string, entries: number, data: (index: number) => Buffer): Promise<number> {
  const output = createWriteStream(file);
  const archive = archiver('zip', { store: true });
  archive.pipe(output);
  for (let index = 0; index < entries; index++) archive.append(data(index), { name: `IMG_${String(index).padStart(4, '0')}.jpg` });
  await Promise.all([archive.finalize(), new Promise<void>((resolve) => output.on('close', () => resolve()))]);
  return statSync(file).size;
}
