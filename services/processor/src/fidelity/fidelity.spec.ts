import sharp from 'sharp';
import { resolveRenderSpec, type DriftReport } from '@masterpost/contracts';
import { driftModes, whitenBackground, type DriftMode } from '../../../../tools/dashscope-sim/src/model';
import { renderFromQwenOutput } from '../render/render.service';
import { defaultDriftThresholds } from './drift';
import { BODY, fidelityPhoto } from './fidelity-fixtures';
import { deltaE2000, rgbToLab } from './lab';

/**
 * Product fidelity with real pixels: the stand-in's model makes each kind of drift from a
 * product photo at the sizes Qwen returns, and the processor's render measures it. What a
 * seller would notice: a redrawn product is called `major`, a faithful one `none`, and with
 * `original` the delivered product is the seller's own photo.
 */
jest.setTimeout(180_000);

const request = { thresholds: defaultDriftThresholds, retries: 0 };
let photo: Buffer;
beforeAll(async () => {
  photo = await fidelityPhoto();
});

/** 1024 px unless said otherwise: what is measured does not depend on it, and the tests run faster. */
async function aiOutput(drift: DriftMode, input = photo, size = { width: 1024, height: 1024 }) {
  return whitenBackground(input, { noise: 3, tolerance: 40, outputSize: size, drift });
}

async function driftOf(drift: DriftMode, input = photo, size?: { width: number; height: number }): Promise<{ report: DriftReport; placement: Awaited<ReturnType<typeof aiOutput>>['placement'] }> {
  const output = await aiOutput(drift, input, size);
  const { drift: report } = await renderFromQwenOutput(output.png, resolveRenderSpec('amazon', {}), input, request);
  return { report: report!, placement: output.placement };
}

test('a faithful output is `none`, drawn with the seller\'s pixels, registered to the photo', async () => {
  const { report, placement } = await driftOf('none');
  expect(report).toMatchObject({ verdict: 'none', product_pixels: 'original', retries: 0 });
  expect(report.product_pixels_reason).toBeUndefined();
  expect(report.registration.confidence).toBeGreaterThan(0.9);
  expect(report.registration.scale).toBeCloseTo(placement.scaleX, 2);
});

test.each([
  ['square, 2048', { width: 2048, height: 2048 }],
  ['another aspect, 1536x640', { width: 1536, height: 640 }],
])('a product moved and shrunk in the frame (%s) is registered within 1 px and is not drift', async (_, size) => {
  const { report, placement } = await driftOf('drift_shift_scale', photo, size);
  expect(report.verdict).toBe('none');
  // Where registration puts the product's corners (the photo is 1200 px) against where the model put them.
  const corners = [[BODY.left * 1200, 0.12 * 1200], [BODY.right * 1200, BODY.bottom * 1200]] as const;
  for (const [x, y] of corners) {
    expect(Math.abs(report.registration.scale * x + report.registration.dx - (placement.scaleX * x + placement.dx))).toBeLessThan(1);
    expect(Math.abs(report.registration.scale * y + report.registration.dy - (placement.scaleY * y + placement.dy))).toBeLessThan(1);
  }
});

const redrawn = driftModes.filter((mode) => mode.startsWith('drift_') && mode !== 'drift_shift_scale');
test.each(redrawn)('%s is measured `major`', async (mode) => {
  const { report } = await driftOf(mode);
  expect(report.verdict).toBe('major');
});

test('the verdict holds at 2048 px and at another aspect: a clean output `none`, a recolour `major`', async () => {
  expect((await driftOf('none', photo, { width: 2048, height: 2048 })).report.verdict).toBe('none');
  expect((await driftOf('drift_hue', photo, { width: 640, height: 1536 })).report.verdict).toBe('major');
});

test('what each measure catches: a recolour in ΔE, a smoothed label in detail and structure', async () => {
  const hue = (await driftOf('drift_hue')).report;
  expect(hue.delta_e_mean).toBeGreaterThan(defaultDriftThresholds.major.deltaEMean);
  const label = (await driftOf('drift_label')).report;
  expect(label.detail_change).toBeLessThan(-defaultDriftThresholds.major.detail);
  expect(label.ssim).toBeLessThan(defaultDriftThresholds.major.ssim);
  const part = (await driftOf('drift_remove_part')).report;
  expect(part.delta_e_p95).toBeGreaterThan(defaultDriftThresholds.major.deltaEP95);
});

/** ΔE2000 between the delivered product and the seller's photo over the body's inside, away from its edges. */
async function deltaEAgainstPhoto(picture: Buffer, product: { left: number; top: number; width: number; height: number }): Promise<number> {
  // The product's box in the photo is the cap's top to the body's bottom, the body's sides: known from the fixture.
  const photoBox = { left: BODY.left * 1200, top: 0.12 * 1200, width: (BODY.right - BODY.left) * 1200, height: (BODY.bottom - 0.12) * 1200 };
  const delivered = await sharp(picture).extract(product).removeAlpha().raw().toBuffer();
  const expected = await sharp(photo)
    .extract({ left: Math.round(photoBox.left), top: Math.round(photoBox.top), width: Math.round(photoBox.width), height: Math.round(photoBox.height) })
    .resize({ width: product.width, height: product.height, fit: 'fill' })
    .raw()
    .toBuffer();
  const lab = new Float32Array(6);
  let sum = 0;
  let n = 0;
  // The body's inside, 6% in from its edges (the matted band and any rounding of the boxes).
  const bodyTop = ((BODY.top - 0.12) / (BODY.bottom - 0.12)) * product.height;
  for (let y = Math.round(bodyTop + product.height * 0.06); y < product.height * 0.94; y += 2) {
    for (let x = Math.round(product.width * 0.08); x < product.width * 0.92; x += 2) {
      const at = (y * product.width + x) * 3;
      rgbToLab(delivered[at]!, delivered[at + 1]!, delivered[at + 2]!, lab, 0);
      rgbToLab(expected[at]!, expected[at + 1]!, expected[at + 2]!, lab, 3);
      sum += deltaE2000(lab[0]!, lab[1]!, lab[2]!, lab[3]!, lab[4]!, lab[5]!);
      n++;
    }
  }
  return sum / n;
}

test('with `original`, a recoloured AI output still delivers the seller\'s own product pixels (ΔE mean < 1); with `ai`, the recolour', async () => {
  const output = await aiOutput('drift_hue', photo, { width: 2048, height: 2048 });
  const spec = resolveRenderSpec('amazon', {});
  const original = await renderFromQwenOutput(output.png, spec, photo, request);
  expect(original.drift).toMatchObject({ verdict: 'major', product_pixels: 'original' });
  expect(await deltaEAgainstPhoto(original.picture.bytes, original.picture.product)).toBeLessThan(1);

  const ai = await renderFromQwenOutput(output.png, spec, photo, { ...request, productPixels: 'ai' });
  expect(ai.drift).toMatchObject({ verdict: 'major', product_pixels: 'ai', product_pixels_reason: expect.stringMatching(/asked/) });
  expect(await deltaEAgainstPhoto(ai.picture.bytes, ai.picture.product)).toBeGreaterThan(10);
  expect(original.picture.compliance.passed).toBe(true);
});

test('a prop in front of the product that the AI whitened falls back to `ai`, with the reason', async () => {
  const withProp = await fidelityPhoto({ prop: true });
  const { report } = await driftOf('remove_prop', withProp);
  expect(report.product_pixels).toBe('ai');
  expect(report.product_pixels_reason).toMatch(/in front of the product/);
  // The same photo, output faithful (the prop kept): the seller's pixels are used.
  const kept = (await driftOf('none', withProp)).report;
  expect(kept.product_pixels).toBe('original');
});
