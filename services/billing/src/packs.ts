import { z } from 'zod';
import type { Pack } from '@masterpost/contracts';

/**
 * Credit packs: the server's price table is the only source of what a payment buys
 * (reliability 12). `CREDIT_PACKS` may replace it with JSON of the same shape.
 */
export const defaultPacks: Pack[] = [
  { id: 'starter', name: 'Starter', credits: 10, price_cents: 100, currency: 'usd' },
  { id: 'pro', name: 'Pro', credits: 100, price_cents: 1000, currency: 'usd' },
  { id: 'business', name: 'Business', credits: 1000, price_cents: 10000, currency: 'usd' },
];

const packSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_-]+$/),
  name: z.string().min(1),
  credits: z.number().int().positive(),
  price_cents: z.number().int().positive(),
  currency: z.string().regex(/^[a-z]{3}$/),
});

/** The packs, or why CREDIT_PACKS cannot be used (not JSON, or the field that is wrong). */
export function packsProblem(raw: string | undefined): string | null {
  if (!raw) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return `is not JSON (${(error as Error).message})`;
  }
  const parsed = z.array(packSchema).min(1).safeParse(json);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.length ? `[${issue.path.join('].')}: ` : ''}${issue?.message ?? 'invalid'}`;
}

export function parsePacks(raw: string | undefined): Pack[] {
  const problem = packsProblem(raw);
  if (problem) throw new Error(`CREDIT_PACKS ${problem}`);
  return raw ? z.array(packSchema).parse(JSON.parse(raw)) : defaultPacks;
}
