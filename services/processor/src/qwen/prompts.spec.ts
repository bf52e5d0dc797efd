import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipelineIds } from '@masterpost/contracts';
import { ConfigError } from '@masterpost/platform';
import { DEFAULT_PROMPTS_FILE, loadPrompts } from './prompts';

function withFile(patch: (book: Record<string, unknown>) => void): string {
  const book = JSON.parse(readFileSync(DEFAULT_PROMPTS_FILE, 'utf8')) as Record<string, unknown>;
  patch(book);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'prompts-')), 'prompts.json');
  writeFileSync(file, JSON.stringify(book));
  return file;
}

test('the shipped prompts ask every preset for pure white and nothing added, within the contract limits', () => {
  const prompts = loadPrompts();
  for (const id of pipelineIds) {
    const prompt = prompts(id);
    expect(prompt.text).toMatch(/pure white, RGB 255,255,255/);
    expect(prompt.text.length).toBeLessThanOrEqual(800);
    expect(prompt.negative).toMatch(/shadow/);
    expect(prompt.version).toBe('p1');
  }
  expect(new Set(pipelineIds.map((id) => prompts(id).text)).size).toBe(pipelineIds.length);
});

test('a prompts file missing a preset or too long for DashScope is refused at start, naming the problem', () => {
  const missing = withFile((book) => delete (book.presets as Record<string, string>).etsy);
  expect(() => loadPrompts(missing)).toThrow(ConfigError);
  expect(() => loadPrompts(missing)).toThrow(/presets\.etsy/);
  const long = withFile((book) => ((book.presets as Record<string, string>).amazon = 'x'.repeat(700)));
  expect(() => loadPrompts(long)).toThrow(/amazon prompt is \d+ characters; DashScope takes at most 800/);
});
