import type { PipelineId } from '@masterpost/shared';

/**
 * The prompts sent to Qwen, one per preset, versioned: the version is part of the cache key
 * of stored outputs, so changing a prompt never serves an output made with the old one.
 * The intent is the seed's: pure white RGB 255,255,255, only the product, unchanged, nothing
 * added. Shadows are ours to draw afterwards, so Qwen is asked for none.
 */
export const PROMPT_VERSION = 'p1';

const base =
  'Replace the entire background with pure white, RGB 255,255,255, perfectly flat and even. ' +
  'Keep only the main product, exactly as it is: same shape, proportions, colours, materials, labels and text printed on it. ' +
  'Remove every other object, prop, hand, surface, reflection and shadow. ' +
  'Do not add shadows, text, logos, borders or watermarks. Keep the whole product in frame, not cropped.';

const emphasis: Record<PipelineId, string> = {
  amazon: ' Studio e-commerce main image, product only.',
  ebay: ' Clean marketplace listing photo.',
  instagram: ' Crisp, well-lit product photo.',
  shopify: ' Clean storefront product photo.',
  etsy: ' Natural, true-to-life colours of a handmade product.',
};

export const NEGATIVE_PROMPT = 'shadow, reflection, props, hands, text, watermark, logo, border, grey background, gradient, vignette, cropped product';

export function promptFor(pipeline: PipelineId): { text: string; negative: string; version: string } {
  return { text: base + emphasis[pipeline], negative: NEGATIVE_PROMPT, version: PROMPT_VERSION };
}
