import type Stripe from 'stripe';
import type { Pack } from '@masterpost/shared';
import type { LedgerStore } from '../ledger/ledger.repository';

/**
 * Applies verified Stripe events to the ledger. Each grant is keyed by the Checkout Session id,
 * so a redelivered event, or `completed` followed by `async_payment_succeeded`, grants once.
 * The number of credits comes from our pack table, never from a client-supplied field.
 */
export class WebhookService {
  constructor(
    private readonly ledger: LedgerStore,
    private readonly packs: Pack[],
  ) {}

  async apply(event: Stripe.Event): Promise<'applied' | 'ignored'> {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded': {
        const session = event.data.object;
        if (session.payment_status !== 'paid') return 'ignored';
        return this.grantSession(session);
      }
      default:
        return 'ignored';
    }
  }

  private async grantSession(session: Stripe.Checkout.Session): Promise<'applied' | 'ignored'> {
    const userId = session.metadata?.user_id;
    const pack = this.packs.find((candidate) => candidate.id === session.metadata?.pack_id);
    if (!userId || !pack) return 'ignored';
    if (session.amount_total !== null && session.amount_total !== pack.price_cents) return 'ignored';
    await this.ledger.grant(userId, pack.credits, 'purchase', `stripe:session:${session.id}`, `Bought ${pack.name} (${pack.credits} credits)`);
    return 'applied';
  }
}
