import { mailTemplates, type Mail } from '@masterpost/platform';
import { z } from 'zod';

/**
 * Notices written as facts where no template runs (billing's SQL call: db/migrations/013), made
 * into words when they are sent. A row whose facts do not parse is a bug: it is not sent.
 */
const receiptFacts = z.object({ pack: z.string(), credits: z.int(), amount_cents: z.int(), currency: z.string(), reference: z.string() });

export function noticeWords(kind: string, data: unknown): Mail | null {
  if (kind !== 'receipt') return null;
  const facts = receiptFacts.safeParse(data);
  if (!facts.success) return null;
  const { pack, credits, amount_cents, currency, reference } = facts.data;
  return mailTemplates.receipt({ pack, credits, amountCents: amount_cents, currency, reference });
}
