/**
 * DashScope's documented vocabulary (docs/dashscope.md): path, models, error codes and limits.
 */
export const GENERATION_PATH = '/api/v1/services/aigc/multimodal-generation/generation';

export const models = {
  'qwen-image-edit': { takesSize: false, priceMicroUsd: 45_000 },
  'qwen-image-edit-plus': { takesSize: true, priceMicroUsd: 30_000 },
  'qwen-image-edit-max': { takesSize: true, priceMicroUsd: 75_000 },
} as const;
export type ModelId = keyof typeof models;

export const limits = {
  maxImageBytes: 10 * 1024 * 1024,
  minSide: 384,
  maxSide: 3072,
  maxTextChars: 800,
  maxNegativePromptChars: 500,
  minOutputSide: 512,
  maxOutputSide: 2048,
};

export class DashScopeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MIME_BY_FORMAT: Record<string, string[]> = {
  jpeg: ['image/jpeg', 'image/jpg'],
  png: ['image/png'],
  webp: ['image/webp'],
  gif: ['image/gif'],
  tiff: ['image/tiff'],
  bmp: ['image/bmp'],
};

export function mimeMatchesFormat(mime: string, format: string | undefined): boolean {
  return format !== undefined && (MIME_BY_FORMAT[format] ?? []).includes(mime.toLowerCase());
}
