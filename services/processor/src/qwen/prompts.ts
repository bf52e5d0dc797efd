import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipelineIds, type PipelineId } from '@masterpost/contracts';
import { ConfigError } from '@masterpost/platform';
import { z } from 'zod';

/**
 * The prompts sent to Qwen live in versioned files (services/processor/prompts/<version>.json),
 * one prompt per preset, chosen with QWEN_PROMPTS_FILE. The version is part of the key of
 * stored outputs, so a new prompt file never serves an output made with an old one. The file
 * is checked at start against the contract's limits (text 800, negative prompt 500 characters).
 */
export const DEFAULT_PROMPTS_FILE = path.resolve(__dirname, '..', '..', 'prompts', 'p1.json');

const promptFile = z.strictObject({
  version: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,31}$/, 'a short version name: letters, digits, . _ -'),
  note: z.string().optional(),
  base: z.string().min(1),
  presets: z.strictObject(Object.fromEntries(pipelineIds.map((id) => [id, z.string()])) as Record<PipelineId, z.ZodString>),
  negative: z.string().max(500),
});

export interface Prompt {
  text: string;
  negative: string;
  version: string;
}

export type PromptBook = (pipeline: PipelineId) => Prompt;

export function loadPrompts(file = DEFAULT_PROMPTS_FILE): PromptBook {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('processor', [`QWEN_PROMPTS_FILE: ${file} cannot be read as JSON: ${(error as Error).message}`]);
  }
  const parsed = promptFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError('processor', parsed.error.issues.map((issue) => `QWEN_PROMPTS_FILE ${file}: ${issue.path.join('.')}: ${issue.message}`));
  }
  const book = parsed.data;
  for (const id of pipelineIds) {
    const length = `${book.base} ${book.presets[id]}`.length;
    if (length > 800) throw new ConfigError('processor', [`QWEN_PROMPTS_FILE ${file}: the ${id} prompt is ${length} characters; DashScope takes at most 800`]);
  }
  return (pipeline) => ({ text: `${book.base} ${book.presets[pipeline]}`.trim(), negative: book.negative, version: book.version });
}
