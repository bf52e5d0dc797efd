import type Stripe from 'stripe';
import type { Pack } from '@masterpost/contracts';

/**
 * Stripe's part of `npm run provider-check`: the keys have Stripe's shapes, the secret key is
 * accepted (a read of the balance, which costs nothing), and every pack can be charged: our
 * packs are priced inline (`price_data`), so there is no Price object to look up, but Stripe
 * refuses a charge below its minimum for the currency.
 */
export interface StripeCheckReport {
  status: 'ok' | 'failed' | 'skipped';
  details: string[];
}

/** Stripe's smallest charge per currency, in the currency's minor unit (docs: minimum charge amounts). */
const MINIMUM_CHARGE: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, chf: 50, jpy: 50, sgd: 50 };

export async function checkStripe(settings: { secretKey?: string | undefined; webhookSecret?: string | undefined; packs: Pack[]; stripe: Stripe | null }): Promise<StripeCheckReport> {
  if (!settings.secretKey || !settings.stripe) return { status: 'skipped', details: ['STRIPE_SECRET_KEY is not set: payments are off'] };
  const problems: string[] = [];
  const details: string[] = [];
  const mode = /^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.exec(settings.secretKey);
  if (!mode) problems.push('STRIPE_SECRET_KEY is not a Stripe secret key (sk_live_..., sk_test_... or a restricted rk_...)');
  if (!settings.webhookSecret) problems.push('STRIPE_WEBHOOK_SECRET is not set: every webhook would be refused, and no purchase would grant credits');
  else if (!/^whsec_[A-Za-z0-9+/=]{16,}$/.test(settings.webhookSecret)) problems.push('STRIPE_WEBHOOK_SECRET is not an endpoint signing secret (whsec_..., from the endpoint\'s page in the Dashboard)');
  for (const pack of settings.packs) {
    const minimum = MINIMUM_CHARGE[pack.currency];
    if (minimum === undefined) details.push(`pack ${pack.id}: ${pack.currency} has no known minimum here; check it in Stripe's docs`);
    else if (pack.price_cents < minimum) problems.push(`pack ${pack.id} costs ${pack.price_cents} (${pack.currency}), under Stripe's minimum charge of ${minimum}`);
  }
  try {
    const balance = await settings.stripe.balance.retrieve();
    details.push(`secret key accepted (${balance.livemode ? 'live' : 'test'} mode)`);
    if (mode && (mode[2] === 'live') !== balance.livemode) problems.push('the key\'s prefix and the mode Stripe answered in disagree');
  } catch (error) {
    problems.push(`Stripe refused the secret key or could not be reached: ${(error as Error).message}`);
  }
  details.push(`packs: ${settings.packs.map((pack) => `${pack.id} ${pack.credits} credits for ${pack.price_cents} ${pack.currency}`).join(', ')}`);
  return problems.length > 0 ? { status: 'failed', details: [...details, ...problems] } : { status: 'ok', details };
}
