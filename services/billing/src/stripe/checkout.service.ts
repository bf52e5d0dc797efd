import Stripe from 'stripe';
import type { Pack } from '@masterpost/contracts';

/**
 * Creates Stripe Checkout Sessions for credit packs. The price comes from our pack table and
 * the user and pack travel in the session's metadata, which the webhook reads back.
 */
export class CheckoutService {
  constructor(
    private readonly stripe: Stripe,
    private readonly publicUrl: string,
  ) {}

  async createSession(userId: string, email: string, pack: Pack): Promise<{ url: string; session_id: string }> {
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: 'payment',
        customer_email: email,
        client_reference_id: userId,
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: pack.currency,
              unit_amount: pack.price_cents,
              product_data: { name: `${pack.name}: ${pack.credits} Masterpost credits` },
            },
          },
        ],
        metadata: { user_id: userId, pack_id: pack.id, credits: String(pack.credits) },
        success_url: `${this.publicUrl}/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${this.publicUrl}/?checkout=cancelled`,
      },
    );
    if (!session.url) throw new Error('Stripe returned a Checkout Session without a URL');
    return { url: session.url, session_id: session.id };
  }
}

/** A Stripe client, pointed at `apiBase` when set (tests run a local stand-in for Stripe's API). */
export function createStripeClient(secretKey: string, apiBase?: string): Stripe {
  if (!apiBase) return new Stripe(secretKey, { maxNetworkRetries: 2, timeout: 20_000 });
  const url = new URL(apiBase);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol.replace(':', '') as 'http' | 'https',
    maxNetworkRetries: 0,
    timeout: 20_000,
  });
}
