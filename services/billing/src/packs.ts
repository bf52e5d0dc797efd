import { z } from 'zod';
import type { Pack } from '@masterpost/platform';

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

export function parsePacks(raw: string | undefined): Pack[] {
  if (!raw) return defaultPacks;
  const parsed = z.array(packSchema).min(1).safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`CREDIT_PACKS: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
