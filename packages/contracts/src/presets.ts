import { z } from 'zod';
import { pictureFormats } from './media';

/**
 * Marketplace presets (docs/marketplaces.md) and the per-job settings a seller may override.
 * The gateway validates settings against these before reserving credits; the processor
 * resolves the same spec when it renders, so both always agree on what a job asked for.
 */
export const pipelineIds = ['amazon', 'ebay', 'instagram', 'shopify', 'etsy'] as const;
export type PipelineId = (typeof pipelineIds)[number];

export const shadowTypes = ['none', 'drop', 'reflection', 'natural', 'auto'] as const;
export type ShadowType = (typeof shadowTypes)[number];
export type ConcreteShadowType = Exclude<ShadowType, 'auto'>;

export const outputFormats = ['jpeg', 'png', 'webp'] as const;
export type OutputFormat = (typeof outputFormats)[number];

export interface ShadowSpec {
  type: ShadowType;
  opacity: number;
  blur: number;
  angle: number;
  distance: number;
  reflection_height: number;
}

export interface Preset {
  id: PipelineId;
  canvas: { width: number; height: number };
  background: string;
  /** Share of the canvas the product's longest side fills. */
  coverage: number;
  format: OutputFormat;
  quality: number;
  shadow: ShadowSpec;
  /** Marketplace limits that a per-job override may not break. */
  limits: { minLongestSide: number; maxSide: number; maxBytes: number; whiteBackgroundOnly: boolean };
  /** Etsy crops thumbnails: the product must sit inside this centred share of the canvas. */
  safeArea?: { aspect: number };
}

// angle: degrees clockwise from "right" on screen, so 45 points the shadow down and to the right.
const shadowDefaults = { opacity: 0.5, blur: 18, angle: 45, distance: 24, reflection_height: 0.35 };

export const presets: Record<PipelineId, Preset> = {
  amazon: {
    id: 'amazon',
    canvas: { width: 2000, height: 2000 },
    background: '#FFFFFF',
    coverage: 0.85,
    format: 'jpeg',
    quality: 90,
    shadow: { type: 'none', ...shadowDefaults },
    limits: { minLongestSide: 1000, maxSide: 10000, maxBytes: 10 * 1024 * 1024, whiteBackgroundOnly: true },
  },
  ebay: {
    id: 'ebay',
    canvas: { width: 1600, height: 1600 },
    background: '#FFFFFF',
    coverage: 0.8,
    format: 'jpeg',
    quality: 92,
    shadow: { type: 'natural', ...shadowDefaults },
    limits: { minLongestSide: 500, maxSide: 9000, maxBytes: 12 * 1024 * 1024, whiteBackgroundOnly: false },
  },
  instagram: {
    id: 'instagram',
    canvas: { width: 1080, height: 1080 },
    background: '#FFFFFF',
    coverage: 0.75,
    format: 'jpeg',
    quality: 90,
    shadow: { type: 'drop', ...shadowDefaults },
    // 1080 wide; 1350 tall for 4:5 portraits. Anything larger Instagram downscales anyway.
    limits: { minLongestSide: 320, maxSide: 1350, maxBytes: 8 * 1024 * 1024, whiteBackgroundOnly: false },
  },
  shopify: {
    id: 'shopify',
    canvas: { width: 2048, height: 2048 },
    background: '#FFFFFF',
    coverage: 0.85,
    format: 'jpeg',
    quality: 90,
    shadow: { type: 'none', ...shadowDefaults },
    limits: { minLongestSide: 800, maxSide: 5000, maxBytes: 20 * 1024 * 1024, whiteBackgroundOnly: false },
  },
  etsy: {
    id: 'etsy',
    canvas: { width: 2000, height: 2000 },
    background: '#FFFFFF',
    coverage: 0.8,
    format: 'jpeg',
    quality: 90,
    shadow: { type: 'natural', ...shadowDefaults },
    limits: { minLongestSide: 1000, maxSide: 5000, maxBytes: 10 * 1024 * 1024, whiteBackgroundOnly: false },
    safeArea: { aspect: 4 / 3 },
  },
};

export const productPixelsModes = ['original', 'ai'] as const;
export type ProductPixelsMode = (typeof productPixelsModes)[number];
export const majorDriftActions = ['deliver', 'retry', 'fail'] as const;
export type MajorDriftAction = (typeof majorDriftActions)[number];

const hexColour = z.string().regex(/^#[0-9A-Fa-f]{6}$/, 'must be a colour written #RRGGBB');

export const jobSettingsSchema = z.strictObject({
  shadow: z
    .strictObject({
      type: z.enum(shadowTypes),
      opacity: z.number().min(0).max(1),
      blur: z.number().min(0).max(100),
      angle: z.number().min(0).max(360),
      distance: z.number().min(0).max(200),
      reflection_height: z.number().min(0.05).max(1),
    })
    .partial()
    .optional(),
  background: hexColour.optional(),
  coverage: z.number().min(0.5).max(0.95).optional(),
  size: z
    .strictObject({
      width: z.number().int().min(100).max(10000),
      height: z.number().int().min(100).max(10000),
    })
    .optional(),
  format: z.enum(outputFormats).optional(),
  quality: z.number().int().min(50).max(100).optional(),
  /**
   * Whose pixels the product is drawn with: the seller's photo (`original`, the default when the
   * AI output registers to it with confidence) or the AI output (`ai`). See docs/marketplaces.md.
   */
  product_pixels: z.enum(productPixelsModes).optional(),
  /** What to do with a picture whose product drifted `major`ly from the seller's photo. */
  on_major_drift: z.enum(majorDriftActions).optional(),
});
export type JobSettings = z.infer<typeof jobSettingsSchema>;

export interface RenderSpec {
  pipeline: PipelineId;
  canvas: { width: number; height: number };
  background: string;
  coverage: number;
  format: OutputFormat;
  quality: number;
  shadow: ShadowSpec;
  whiteBackgroundOnly: boolean;
  maxBytes: number;
  safeArea?: { aspect: number };
}

export class SettingsError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SettingsError';
  }
}

export function isPipelineId(value: unknown): value is PipelineId {
  return typeof value === 'string' && (pipelineIds as readonly string[]).includes(value);
}

/**
 * Parses raw per-job settings and merges them over the preset. Throws SettingsError naming the
 * first offending field (dotted path), so the API can answer 400 `invalid_settings` with it.
 */
export function resolveRenderSpec(pipeline: PipelineId, rawSettings: unknown): RenderSpec {
  const parsed = jobSettingsSchema.safeParse(rawSettings ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : 'settings';
    throw new SettingsError(field, issue?.message ?? 'is not valid');
  }
  const settings = parsed.data;
  const preset = presets[pipeline];
  const canvas = settings.size ?? preset.canvas;
  const longest = Math.max(canvas.width, canvas.height);
  if (longest < preset.limits.minLongestSide) {
    throw new SettingsError('size', `${pipeline} needs a longest side of at least ${preset.limits.minLongestSide} px`);
  }
  if (canvas.width > preset.limits.maxSide || canvas.height > preset.limits.maxSide) {
    throw new SettingsError('size', `${pipeline} accepts at most ${preset.limits.maxSide} px a side`);
  }
  const background = (settings.background ?? preset.background).toUpperCase();
  if (preset.limits.whiteBackgroundOnly && background !== '#FFFFFF') {
    throw new SettingsError('background', `${pipeline} requires a pure white background (#FFFFFF)`);
  }
  if (preset.limits.whiteBackgroundOnly && settings.coverage !== undefined && settings.coverage < 0.85) {
    throw new SettingsError('coverage', `${pipeline} requires the product to fill at least 85% of the frame`);
  }
  return {
    pipeline,
    canvas: { width: canvas.width, height: canvas.height },
    background,
    coverage: settings.coverage ?? preset.coverage,
    format: settings.format ?? preset.format,
    quality: settings.quality ?? preset.quality,
    shadow: { ...preset.shadow, ...settings.shadow },
    whiteBackgroundOnly: preset.limits.whiteBackgroundOnly,
    maxBytes: preset.limits.maxBytes,
    ...(preset.safeArea ? { safeArea: preset.safeArea } : {}),
  };
}

/**
 * Later settings over earlier ones, key by key, and inside `shadow` and `size` too: an edit
 * that changes the shadow's opacity keeps the job's shadow type and format.
 */
export function mergeSettings(...layers: Array<Record<string, unknown> | null | undefined>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      const before = merged[key];
      const nested = (key === 'shadow' || key === 'size') && isPlainObject(before) && isPlainObject(value);
      merged[key] = nested ? { ...before, ...value } : value;
    }
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const formatExtension: Record<OutputFormat, string> = { jpeg: pictureFormats.jpeg.extension, png: pictureFormats.png.extension, webp: pictureFormats.webp.extension };
