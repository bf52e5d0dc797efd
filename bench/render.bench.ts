import sharp from 'sharp';
import { resolveRenderSpec, type PipelineId, type RenderSpec } from '@masterpost/contracts';
import { productPhoto } from '../e2e/fixtures';
import { renderFromQwenOutput } from '../services/processor/src/render/render.service';
import { whitenBackground } from '../tools/dashscope-sim/src/model';
import { table, writeSection } from './report';
import { summarize, timeIt } from './stats';

/**
 * The processor's own render step (cut-out from Qwen's white-background output, fit on the
 * preset's canvas, shadow, encode, compliance report), on one core, against the floor of the
 * same run: decode the same input, resize it onto the same canvas, encode it the same way.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

async function qwenLikeOutput(side: number): Promise<Buffer> {
  const photo = await productPhoto({ width: 1200, height: 1200, colour: '#7d3c98', shape: 'bottle' });
  return (await whitenBackground(photo, { noise: 3, tolerance: 40, outputSize: { width: side, height: side } })).png;
}

function floor(input: Buffer, spec: RenderSpec): Promise<Buffer> {
  return sharp(input)
    .resize({ width: spec.canvas.width, height: spec.canvas.height, fit: 'contain', background: '#ffffff' })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: spec.quality })
    .toBuffer();
}

async function main(): Promise<void> {
  sharp.concurrency(1);
  // libvips would otherwise serve repeated decodes of the same input from its operation cache.
  sharp.cache(false);
  const cases: Array<{ pipeline: PipelineId; shadow?: 'none' | 'drop' | 'natural' | 'reflection' }> = [
    { pipeline: 'amazon' }, { pipeline: 'ebay' }, { pipeline: 'instagram' }, { pipeline: 'shopify' }, { pipeline: 'etsy' },
    { pipeline: 'shopify', shadow: 'drop' }, { pipeline: 'shopify', shadow: 'natural' }, { pipeline: 'shopify', shadow: 'reflection' },
  ];
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  for (const side of [1024, 2048]) {
    const input = await qwenLikeOutput(side);
    for (const item of cases) {
      const spec = resolveRenderSpec(item.pipeline, item.shadow ? { shadow: { type: item.shadow } } : {});
      const render = summarize(await timeIt(RUNS, () => renderFromQwenOutput(input, spec)));
      const base = summarize(await timeIt(RUNS, () => floor(input, spec)));
      const ratio = render.median / base.median;
      const target = spec.shadow.type === 'none' ? 2 : 3;
      const label = `${item.pipeline}${item.shadow ? ` + ${item.shadow}` : ''}`;
      rows.push([
        `${side} px`, label, spec.shadow.type, `${spec.canvas.width}x${spec.canvas.height}`,
        `${render.median.toFixed(0)} (${render.min.toFixed(0)}-${render.max.toFixed(0)})`, render.p95.toFixed(0),
        `${base.median.toFixed(0)}`, `${ratio.toFixed(1)}x`, ratio <= target ? `meets (≤ ${target}x)` : `misses (≤ ${target}x)`,
      ]);
      if (ratio > target) verdicts.push(`${label} at ${side} px: ${ratio.toFixed(1)}x`);
      console.log(label, side, render.median.toFixed(0), base.median.toFixed(0));
    }
  }
  writeSection(
    'render',
    'Render cost per picture, one core',
    `\`sharp.concurrency(1)\`, one process, ${RUNS} timed runs after a warm-up. Input: the stand-in's white-background output of a
product photo (what Qwen returns), square, at 1024 and 2048 px. "Render" is the processor's whole step (\`renderFromQwenOutput\`:
mask, cut-out, fit, shadow, encode, compliance). "Floor" is decode, resize onto the same canvas, encode JPEG at the same quality.
Times in ms: median (min-max), p95.

${table(['input', 'preset', 'shadow', 'canvas', 'render median (range)', 'render p95', 'floor median', 'render / floor', 'target'], rows)}

${verdicts.length === 0 ? 'Every case meets its target.' : `Over target: ${verdicts.join('; ')}. What holds it back: the mask and the shadow are passes in plain JavaScript over every pixel of the canvas (flood fill, alpha edge, blur input), where the floor is libvips end to end. What would fix it: compute the mask at the input's size once and let libvips do the shadow (blur of the alpha channel) on a cropped region around the product instead of the whole canvas.`}

Reproduce: \`npx --yes pnpm@10 exec tsx bench/render.bench.ts\`.`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
