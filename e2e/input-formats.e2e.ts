import sharp from 'sharp';
import request from 'supertest';
import { getBinary, inspectPicture, productPhoto } from './fixtures';
import { cleanUpAfter, startTestStack, type TestStack } from './harness';
import { Seller } from './seller';

/**
 * Photos as cameras, scanners and phones really write them: CMYK JPEG, 16-bit PNG, grayscale,
 * PNG with transparency, animated GIF and WebP (the first frame is the photo). Each becomes a
 * marketplace picture in sRGB with a pure white border and the product at the preset's size.
 */
jest.setTimeout(180_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_CREDITS: '60' } });
});
cleanUpAfter(() => stack);
async function inputs(): Promise<Array<{ name: string; data: Buffer }>> {
  const base = await productPhoto({ width: 900, height: 900, colour: '#1a5276', shape: 'box' });
  const frame = (colour: string) => productPhoto({ width: 600, height: 600, colour, shape: 'disc' });
  const frames = await Promise.all(['#922b21', '#1e8449', '#b7950b'].map(frame));
  const rawFrames = await Promise.all(frames.map((data) => sharp(data).ensureAlpha().raw().toBuffer()));
  // Three frames stacked as pages: the first one is the photo.
  const pages = { raw: { width: 600, height: 1800, channels: 4 as const, pageHeight: 600 } };
  const strip = Buffer.concat(rawFrames);
  const transparent = await sharp({ create: { width: 800, height: 800, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: { create: { width: 320, height: 480, channels: 4, background: { r: 120, g: 40, b: 90, alpha: 1 } } }, left: 240, top: 160 }])
    .png()
    .toBuffer();
  return [
    { name: 'cmyk.jpg', data: await sharp(base).toColourspace('cmyk').jpeg().toBuffer() },
    { name: 'deep.png', data: await sharp(base).toColourspace('rgb16').png().toBuffer() },
    { name: 'grey.jpg', data: await sharp(base).toColourspace('b-w').jpeg().toBuffer() },
    { name: 'cutout.png', data: transparent },
    { name: 'moving.gif', data: await sharp(strip, pages).gif().toBuffer() },
    { name: 'moving.webp', data: await sharp(strip, pages).webp().toBuffer() },
  ];
}

test('CMYK, 16-bit, grayscale, transparent and animated photos all become sRGB marketplace pictures', async () => {
  const seller = await Seller.register(stack.gatewayUrl, 'formats@example.com');
  const files = await inputs();
  const meta = await Promise.all(files.map((file) => sharp(file.data).metadata()));
  expect(meta.map((item) => item.space ?? item.format)).toEqual(expect.arrayContaining(['cmyk', 'rgb16', 'b-w']));
  expect(meta.filter((_, index) => files[index]!.name.startsWith('moving')).map((item) => item.pages)).toEqual([3, 3]);
  const jobId = await seller.upload(files.map((file) => file.data));
  await seller.process(jobId, 'amazon');
  const progress = await seller.waitUntilFinished(jobId, 120_000);
  expect(progress).toMatchObject({ status: 'completed', completed: files.length, failed: 0 });
  for (const image of progress.images) {
    const bytes = (await getBinary(request(stack.gatewayUrl), image.result_url!, seller.token).expect(200)).body as Buffer;
    const out = await sharp(bytes).metadata();
    const picture = await inspectPicture(bytes);
    expect({ name: image.filename, space: out.space, channels: out.channels, depth: out.depth, pages: out.pages ?? 1, border: picture.borderPureWhite }).toEqual({
      name: image.filename, space: 'srgb', channels: 3, depth: 'uchar', pages: 1, border: true,
    });
    const longest = Math.max(picture.box!.width, picture.box!.height) / 2000;
    expect(longest).toBeGreaterThan(0.8);
  }
});
