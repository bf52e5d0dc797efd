import sharp from 'sharp';
import { prepareQwenInput, UnusableInputError } from './prepare-input';

/** What goes to the provider: the photo's own shape, at most the 2048 px the models give back. */
async function photo(width: number, height: number, orientation?: number): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background: '#c0392b' } }).jpeg();
  return (orientation ? image.withMetadata({ orientation }) : image).toBuffer();
}

async function sentSize(bytes: Buffer): Promise<{ width?: number; height?: number }> {
  const { width, height } = await sharp(bytes).metadata();
  return { width, height };
}

test('a 12 MP phone photo goes at 2048 px on its longest side, its aspect kept', async () => {
  const prepared = await prepareQwenInput(await photo(4000, 3000));
  expect(await sentSize(prepared.bytes)).toEqual({ width: 2048, height: 1536 });
  expect(prepared).toMatchObject({ width: 2048, height: 1536, mime: 'image/jpeg' });
});

test('a photo taken sideways (EXIF orientation 6) goes upright', async () => {
  const prepared = await prepareQwenInput(await photo(4000, 3000, 6));
  expect(await sentSize(prepared.bytes)).toEqual({ width: 1536, height: 2048 });
});

test('a narrow panorama keeps its short side at the provider minimum, past 2048 but within 3072', async () => {
  const prepared = await prepareQwenInput(await photo(6000, 800));
  expect(await sentSize(prepared.bytes)).toEqual({ width: 2880, height: 384 });
});

test('a strip narrower than the provider takes is refused with a reason', async () => {
  await expect(prepareQwenInput(await photo(6000, 500))).rejects.toThrow(UnusableInputError);
  await expect(prepareQwenInput(await photo(6000, 500))).rejects.toThrow('a 6000x500 picture is too narrow for the AI provider (sides must be 384 to 3072 px)');
});
