import sharp from 'sharp';
import { resolveRenderSpec } from '@masterpost/contracts';
import { renderFromQwenOutput } from './render.service';

/** Pixel checks on a small generated "Qwen output": a blue box on near-white noise. */
async function qwenOutput(): Promise<Buffer> {
  const width = 600;
  const height = 600;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const inBox = x >= 200 && x < 400 && y >= 150 && y < 450;
      const noise = (x * 7 + y * 13) % 4;
      data[offset] = inBox ? 30 : 255 - noise;
      data[offset + 1] = inBox ? 60 : 255 - noise;
      data[offset + 2] = inBox ? 200 : 255 - noise;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

async function pixels(bytes: Buffer) {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
}

test('amazon: the product fills 85% of a pure white 2000x2000 canvas, centred', async () => {
  const { picture } = await renderFromQwenOutput(await qwenOutput(), resolveRenderSpec('amazon', {}));
  expect(picture.product.height).toBe(1700);
  expect(picture.product.left + picture.product.width / 2).toBeCloseTo(1000, -1);
  expect(picture.compliance.passed).toBe(true);
  const at = await pixels(picture.bytes);
  expect(at(100, 100)).toBe(255);
  expect(at(1000, 1000)).toBeLessThan(60);
});

test('a drop shadow darkens the side it points to, not the other, and is smooth', async () => {
  const spec = resolveRenderSpec('ebay', { shadow: { type: 'drop', angle: 0, distance: 40, blur: 10, opacity: 0.6 } });
  const { picture } = await renderFromQwenOutput(await qwenOutput(), spec);
  const at = await pixels(picture.bytes);
  const right = picture.product.left + picture.product.width + 15;
  const left = picture.product.left - 15;
  const middle = picture.product.top + Math.round(picture.product.height / 2);
  expect(at(right, middle)).toBeLessThan(230);
  expect(at(left, middle)).toBeGreaterThan(250);
  // Neighbouring rows of a blurred shadow differ little (a striped shadow differs a lot).
  expect(Math.abs(at(right, middle) - at(right, middle + 1))).toBeLessThan(6);
});
