import sharp from 'sharp';
import { resolveRenderSpec, type JobSettings, type PipelineId } from '@masterpost/contracts';
import { isBlueProduct, isWhite, luminance, pixelsOf, qwenLike, type Pixels } from './pixel-fixtures';
import { renderFromQwenOutput } from './render.service';
import { shadowReach } from './shadows';

/**
 * Every preset and every shadow type, judged on the pixels of the encoded picture (what the
 * seller uploads to the marketplace), from small generated products.
 */
jest.setTimeout(60_000);

async function render(pipeline: PipelineId, settings: JobSettings = {}, shape: Parameters<typeof qwenLike>[0] = 'box') {
  const { picture } = await renderFromQwenOutput(await qwenLike(shape, { noise: 3 }), resolveRenderSpec(pipeline, settings));
  return { picture, pixels: await pixelsOf(picture.bytes) };
}

function productBox(pixels: Pixels) {
  const box = pixels.boxWhere(isBlueProduct);
  if (!box) throw new Error('no product in the picture');
  return { ...box, width: box.right - box.left + 1, height: box.bottom - box.top + 1 };
}

describe('presets', () => {
  const cases: Array<{ name: string; pipeline: PipelineId; settings?: JobSettings; size: [number, number]; longest: number; shadow: string }> = [
    { name: 'amazon', pipeline: 'amazon', size: [2000, 2000], longest: 1700, shadow: 'none' },
    { name: 'ebay', pipeline: 'ebay', size: [1600, 1600], longest: 1280, shadow: 'natural' },
    { name: 'instagram 1:1', pipeline: 'instagram', size: [1080, 1080], longest: 810, shadow: 'drop' },
    { name: 'instagram 4:5', pipeline: 'instagram', settings: { size: { width: 1080, height: 1350 } }, size: [1080, 1350], longest: 1012, shadow: 'drop' },
    { name: 'shopify', pipeline: 'shopify', size: [2048, 2048], longest: 1741, shadow: 'none' },
    // Etsy: 80% would be 1600 tall, but the product must fit the centred 4:3 safe area (1500 tall).
    { name: 'etsy', pipeline: 'etsy', size: [2000, 2000], longest: 1500, shadow: 'natural' },
  ];

  test.each(cases)('$name: size, coverage, centred, pure white border, its own shadow, a passing report', async ({ pipeline, settings, size, longest, shadow }) => {
    const { picture, pixels } = await render(pipeline, settings);
    expect([pixels.width, pixels.height]).toEqual(size);
    expect((await sharp(picture.bytes).metadata()).format).toBe('jpeg');
    const box = productBox(pixels);
    // The longest side of the product is the coverage target (to JPEG's pixel of blur).
    expect(Math.abs(Math.max(box.width, box.height) - longest)).toBeLessThanOrEqual(2);
    expect(Math.abs(box.left + box.width / 2 - size[0] / 2)).toBeLessThanOrEqual(2);
    for (let x = 0; x < size[0]; x += 7) expect([pixels.at(x, 0), pixels.at(x, size[1] - 1)].every(isWhite)).toBe(true);
    for (let y = 0; y < size[1]; y += 7) expect([pixels.at(0, y), pixels.at(size[0] - 1, y)].every(isWhite)).toBe(true);
    expect(picture.shadow === 'none' ? 'none' : picture.shadow).toBe(shadow);
    // With a shadow, the base's surroundings are darker than the top's; without, both are white.
    const under = luminance(pixels.at(Math.round(box.left + box.width * 0.6), box.bottom + 6));
    const over = luminance(pixels.at(Math.round(box.left + box.width * 0.6), box.top - 12));
    expect(over).toBeGreaterThanOrEqual(252);
    if (shadow === 'none') expect(under).toBeGreaterThanOrEqual(252);
    else expect(under).toBeLessThan(235);
    expect(picture.compliance).toMatchObject({ width: size[0], height: size[1], format: 'jpeg', pure_white_border: true, passed: true });
    expect(picture.compliance.rules.map((rule) => rule.rule)).toEqual(['size', 'format', 'max_bytes', 'pure_white_border', 'coverage']);
  });

  test('amazon: every pixel away from the product (and its shadow, when asked for one) is exactly 255,255,255', async () => {
    for (const shadow of [{ type: 'none' as const }, { type: 'natural' as const }, { type: 'drop' as const, angle: 0, distance: 60 }]) {
      const { picture, pixels } = await render('amazon', { shadow });
      const reach = shadowReach(shadow.type, { ...resolveRenderSpec('amazon', { shadow }).shadow }, picture.product.width, picture.product.height);
      const keep = {
        left: picture.product.left - reach.left - 3,
        right: picture.product.left + picture.product.width + reach.right + 3,
        top: picture.product.top - reach.top - 3,
        bottom: picture.product.top + picture.product.height + reach.bottom + 3,
      };
      // JPEG codes 8x8 blocks: a block holding nothing of the product or shadow must be pure white.
      let impure = 0;
      for (let y = 0; y < pixels.height; y++) {
        for (let x = 0; x < pixels.width; x++) {
          const blockLeft = x - (x % 8);
          const blockTop = y - (y % 8);
          const touches = blockLeft + 8 > keep.left && blockLeft < keep.right && blockTop + 8 > keep.top && blockTop < keep.bottom;
          if (!touches && !isWhite(pixels.at(x, y))) impure++;
        }
      }
      expect({ shadow: shadow.type, impure }).toEqual({ shadow: shadow.type, impure: 0 });
    }
  });

  test('per-job settings: PNG and WebP as asked, another background colour, another coverage', async () => {
    const png = await render('instagram', { format: 'png', background: '#F0E0D0', coverage: 0.6, shadow: { type: 'none' } });
    expect((await sharp(png.picture.bytes).metadata()).format).toBe('png');
    expect(png.pixels.at(3, 3)).toEqual([0xf0, 0xe0, 0xd0]);
    expect(Math.max(productBox(png.pixels).width, productBox(png.pixels).height)).toBe(Math.round(1080 * 0.6));
    expect(png.picture.compliance.rules.find((rule) => rule.rule === 'background_border')).toMatchObject({ pass: true });
    const webp = await render('shopify', { format: 'webp', quality: 80 });
    expect((await sharp(webp.picture.bytes).metadata()).format).toBe('webp');
    expect(webp.picture.compliance.passed).toBe(true);
  });
});

describe('shadows', () => {
  const drop = (settings: Record<string, number>) => render('instagram', { shadow: { type: 'drop', opacity: 0.6, blur: 10, distance: 40, angle: 45, ...settings } });

  test('drop: darkens the side it points to and not the other, for each direction', async () => {
    for (const [angle, toward, away] of [
      [0, 'right', 'left'],
      [90, 'below', 'above'],
      [180, 'left', 'right'],
      [270, 'above', 'below'],
    ] as const) {
      const { pixels } = await drop({ angle });
      const box = productBox(pixels);
      const middleX = Math.round(box.left + box.width / 2);
      const middleY = Math.round(box.top + box.height / 2);
      const beside = {
        right: pixels.at(box.right + 20, middleY),
        left: pixels.at(box.left - 20, middleY),
        below: pixels.at(middleX, box.bottom + 20),
        above: pixels.at(middleX, box.top - 20),
      };
      expect({ angle, toward: luminance(beside[toward]) < 200 }).toEqual({ angle, toward: true });
      expect({ angle, away: luminance(beside[away]) }).toEqual({ angle, away: 255 });
    }
  });

  test('drop: opacity darkens, blur softens, distance moves it', async () => {
    const light = await drop({ opacity: 0.2, angle: 0 });
    const dark = await drop({ opacity: 0.9, angle: 0 });
    const box = productBox(dark.pixels);
    const y = Math.round(box.top + box.height / 2);
    expect(luminance(dark.pixels.at(box.right + 20, y))).toBeLessThan(luminance(light.pixels.at(box.right + 20, y)) - 60);

    // Across the shadow's outer edge (40 px right of the product's), a sharp shadow jumps, a blurred one ramps.
    const levelsAcrossEdge = (pixels: Pixels) => [34, 38, 42, 46].map((dx) => Math.round(luminance(pixels.at(box.right + dx, y))));
    const sharpEdge = levelsAcrossEdge((await drop({ blur: 0, angle: 0 })).pixels);
    const softEdge = levelsAcrossEdge((await drop({ blur: 40, angle: 0 })).pixels);
    expect(sharpEdge[0]).toBeLessThan(200);
    expect(sharpEdge[3]).toBe(255);
    expect(new Set(softEdge).size).toBe(4);
    expect(softEdge[3]! - softEdge[0]!).toBeLessThan(sharpEdge[3]! - sharpEdge[0]!);

    const near = await drop({ distance: 10, angle: 0, blur: 0 });
    expect(luminance(near.pixels.at(box.right + 20, y))).toBe(255);
  });

  test('reflection: a mirrored copy below the base, red band first, fading, nothing above', async () => {
    const { picture, pixels } = await render('instagram', { coverage: 0.5, shadow: { type: 'reflection', opacity: 0.6, reflection_height: 0.4 } }, 'banded');
    expect(picture.shadow).toBe('reflection');
    const { product } = picture;
    const x = Math.round(product.left + product.width / 2);
    const base = product.top + product.height;
    const redness = ([r, g, b]: [number, number, number]) => r - (g + b) / 2;
    const blueness = ([r, g, b]: [number, number, number]) => b - (r + g) / 2;
    // The band is the bottom 1/6 of the product: mirrored, it comes first below the gap.
    expect(redness(pixels.at(x, base + 8))).toBeGreaterThan(40);
    expect(blueness(pixels.at(x, base + Math.round(product.height * 0.25)))).toBeGreaterThan(15);
    // It fades: the same colour, weaker further down, and gone after 40% of the height.
    expect(blueness(pixels.at(x, base + Math.round(product.height * 0.22)))).toBeGreaterThan(blueness(pixels.at(x, base + Math.round(product.height * 0.35))));
    expect(luminance(pixels.at(x, base + Math.round(product.height * 0.42)))).toBe(255);
    expect(luminance(pixels.at(x, product.top - 10))).toBe(255);
    expect(luminance(pixels.at(product.left - 10, base + 20))).toBe(255);
  });

  test('reflection at 85% coverage: the product keeps its size, the reflection still shows, the border stays white', async () => {
    const { picture, pixels } = await render('amazon', { shadow: { type: 'reflection' } }, 'tall');
    expect(picture.product.height).toBe(1700);
    expect(picture.compliance.passed).toBe(true);
    const x = Math.round(picture.product.left + picture.product.width / 2);
    const base = picture.product.top + picture.product.height;
    expect(blueness(pixels.at(x, base + 12))).toBeGreaterThan(30);
    expect(pixels.at(x, pixels.height - 1)).toEqual([255, 255, 255]);
    function blueness([r, g, b]: [number, number, number]) {
      return b - (r + g) / 2;
    }
  });

  test('natural: a grey ellipse under the base, wider than tall, nothing above or far beside', async () => {
    const { picture, pixels } = await render('ebay', { shadow: { type: 'natural', opacity: 0.6 } }, 'wide');
    expect(picture.shadow).toBe('natural');
    const box = productBox(pixels);
    const x = Math.round(box.left + box.width / 2);
    const [r, g, b] = pixels.at(x, box.bottom + 6);
    expect(luminance([r, g, b])).toBeLessThan(200);
    expect(Math.max(r, g, b) - Math.min(r, g, b)).toBeLessThan(12);
    const shadow = pixels.boxWhere((rgb) => luminance(rgb) < 240 && !isBlueProduct(rgb) && Math.max(...rgb) - Math.min(...rgb) < 12);
    expect(shadow!.bottom).toBeGreaterThan(box.bottom);
    expect(shadow!.right - shadow!.left).toBeGreaterThan(4 * (shadow!.bottom - box.bottom));
    expect(luminance(pixels.at(x, box.top - 8))).toBe(255);
    expect(luminance(pixels.at(box.right + 60, box.bottom + 6))).toBe(255);
  });

  test('auto: wide → natural, tall and narrow → reflection, otherwise drop, and the result says which', async () => {
    const chosen = async (shape: 'wide' | 'tall' | 'box') => (await render('shopify', { shadow: { type: 'auto' } }, shape)).picture.shadow;
    expect(await chosen('wide')).toBe('natural');
    expect(await chosen('tall')).toBe('reflection');
    expect(await chosen('box')).toBe('drop');
  });

  test('a large drop shadow moves the product within its margin but never shrinks it, and fades before the border', async () => {
    const { picture, pixels } = await render('amazon', { shadow: { type: 'drop', angle: 0, distance: 200, blur: 60, opacity: 1 } }, 'wide');
    expect(picture.product.width).toBe(1700);
    expect(picture.compliance.passed).toBe(true);
    const box = productBox(pixels);
    expect(box.left).toBeLessThan(150);
    expect(luminance(pixels.at(box.right + 100, Math.round((box.top + box.bottom) / 2)))).toBeLessThan(200);
  });
});
