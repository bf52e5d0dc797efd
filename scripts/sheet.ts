import { mkdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { resolveRenderSpec, type PipelineId } from '@masterpost/contracts';
import { productPhoto } from './product-photo';
import { renderFromQwenOutput } from '../services/processor/src/render/render.service';
import { whitenBackground } from '../tools/dashscope-sim/src/model';
import { defaultDriftThresholds } from '../services/processor/src/fidelity/drift';
import { fidelityPhoto } from '../services/processor/src/fidelity/fidelity-fixtures';

/**
 * Writes docs/sheet.png: one product photo, then what each preset makes of it (with the preset's
 * own shadow), what each shadow type looks like and what `auto` picks for three shapes, side by
 * side, labelled, for a person to judge at a glance. The "AI" step is the local stand-in's, as in the tests.
 * The last row is product fidelity: a photo, an AI output that recoloured the product, the
 * picture delivered with the seller's own pixels (`original`) and the drift report.
 */
const TILE = 360;
const LABEL = 44;

async function tile(picture: Buffer, label: string): Promise<Buffer> {
  const image = await sharp(picture).flatten({ background: '#ffffff' }).resize(TILE, TILE, { fit: 'contain', background: '#ffffff' }).png().toBuffer();
  const text = `<svg xmlns="http://www.w3.org/2000/svg" width="${TILE}" height="${LABEL}"><rect width="100%" height="100%" fill="#263238"/><text x="12" y="29" font-family="DejaVu Sans, sans-serif" font-size="20" fill="#ffffff">${label}</text></svg>`;
  return sharp({ create: { width: TILE, height: TILE + LABEL, channels: 3, background: '#b0bec5' } })
    .composite([{ input: Buffer.from(text), top: 0, left: 0 }, { input: image, top: LABEL, left: 0 }])
    .png()
    .toBuffer();
}

/** A tile of text: the drift report beside the pictures it is about. */
async function reportTile(lines: string[]): Promise<Buffer> {
  const text = lines.map((line, index) => `<text x="14" y="${40 + index * 34}" font-family="DejaVu Sans, sans-serif" font-size="19" fill="#263238">${line}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${TILE}" height="${TILE}"><rect width="100%" height="100%" fill="#ffffff"/>${text}</svg>`;
  return tile(await sharp(Buffer.from(svg)).png().toBuffer(), 'drift report');
}

async function aiOutput(photo: Buffer): Promise<Buffer> {
  return (await whitenBackground(photo, { noise: 3, tolerance: 40 })).png;
}

async function main(): Promise<void> {
  const photo = await productPhoto({ width: 1200, height: 1200, colour: '#c0392b', shape: 'bottle' });
  const qwen = await aiOutput(photo);
  const presets: PipelineId[] = ['amazon', 'ebay', 'instagram', 'shopify', 'etsy'];
  const rows: Buffer[][] = [[await tile(photo, 'seller photo'), await tile(qwen, 'AI: white background')]];
  const presetRow: Buffer[] = [];
  for (const pipeline of presets) {
    const spec = resolveRenderSpec(pipeline, {});
    const { picture } = await renderFromQwenOutput(qwen, spec, photo);
    presetRow.push(await tile(picture.bytes, `${pipeline} ${spec.canvas.width}x${spec.canvas.height}, ${picture.shadow}`));
  }
  rows.push(presetRow);

  // The four shadow types on one product, at Instagram's size and coverage, where a shadow has room.
  const boxPhoto = await productPhoto({ width: 1200, height: 1200, colour: '#2e86c1', shape: 'box' });
  const boxQwen = await aiOutput(boxPhoto);
  const shadowRow: Buffer[] = [];
  for (const type of ['drop', 'reflection', 'natural', 'auto'] as const) {
    const { picture } = await renderFromQwenOutput(boxQwen, resolveRenderSpec('instagram', { shadow: { type, opacity: 0.55 } }), boxPhoto);
    shadowRow.push(await tile(picture.bytes, `shadow: ${type}${type === 'auto' ? ` → ${picture.shadow}` : ''}`));
  }
  rows.push(shadowRow);

  // What auto picks by shape: a wide product sits on the floor, a tall narrow one stands on gloss.
  const autoRow: Buffer[] = [];
  for (const [label, shape, width, height] of [
    ['wide', 'disc', 1600, 600],
    ['tall', 'bottle', 700, 1400],
    ['square-ish', 'box', 1200, 1200],
  ] as const) {
    const shaped = await productPhoto({ width, height, colour: '#8e44ad', shape });
    const { picture } = await renderFromQwenOutput(await aiOutput(shaped), resolveRenderSpec('shopify', { coverage: 0.75, shadow: { type: 'auto', opacity: 0.55 } }), shaped);
    autoRow.push(await tile(picture.bytes, `auto, ${label} → ${picture.shadow}`));
  }
  rows.push(autoRow);

  // Product fidelity: the AI recoloured the product; `original` delivers the seller's pixels anyway.
  const bottle = await fidelityPhoto();
  const drifted = (await whitenBackground(bottle, { noise: 3, tolerance: 40, outputSize: { width: 2048, height: 2048 }, drift: 'drift_hue' })).png;
  const kept = await renderFromQwenOutput(drifted, resolveRenderSpec('amazon', {}), bottle, { thresholds: defaultDriftThresholds, retries: 0 });
  const drift = kept.drift!;
  rows.push([
    await tile(bottle, 'seller photo'),
    await tile(drifted, 'AI output: recoloured'),
    await tile(kept.picture.bytes, `amazon, pixels: ${drift.product_pixels}`),
    await reportTile([
      `drift: ${drift.verdict}`,
      `ΔE2000 mean ${drift.delta_e_mean}, p95 ${drift.delta_e_p95}`,
      `SSIM ${drift.ssim}, detail ${drift.detail_change}`,
      `scale ${drift.registration.scale}, shift ${drift.registration.dx}, ${drift.registration.dy}`,
      `confidence ${drift.registration.confidence}`,
      `product pixels: ${drift.product_pixels}`,
    ]),
  ]);

  const columns = Math.max(...rows.map((row) => row.length));
  const gap = 12;
  const width = columns * TILE + (columns + 1) * gap;
  const height = rows.length * (TILE + LABEL) + (rows.length + 1) * gap;
  const composites = rows.flatMap((row, rowIndex) =>
    row.map((input, columnIndex) => ({ input, left: gap + columnIndex * (TILE + gap), top: gap + rowIndex * (TILE + LABEL + gap) })),
  );
  const out = path.resolve(__dirname, '..', 'docs', 'sheet.png');
  mkdirSync(path.dirname(out), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: '#eceff1' } }).composite(composites).png().toFile(out);
  console.log(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
