import type Stripe from 'stripe';
import type { Pack } from '@masterpost/contracts';
import type { Logger } from '@masterpost/platform';
import type { LedgerStore } from '../ledger/ledger.repository';

/**
 * Applies verified Stripe events to the ledger. Each event is one SQL function call (one
 * transaction) that records the event id and its effect together, so a redelivery, or five at
 * once, changes nothing after the first. Events only add facts to their payment's row (paid,
 * cumulative refund, dispute state) and the credits are recomputed from the facts: any order
 * of arrival ends in the same state. Credits come from our pack table, never from the event.
 */
export type WebhookOutcome = 'granted' | 'recorded' | 'duplicate' | 'ignored' | 'legacy';

const idOf = (value: string | { id: string } | null | undefined): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

export class WebhookService {
  constructor(
    private readonly ledger: LedgerStore,
    private readonly packs: Pack[],
    private readonly logger: Logger,
  ) {}

  async apply(event: Stripe.Event): Promise<WebhookOutcome> {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded':
      case 'checkout.session.async_payment_failed':
        return this.applyCheckout(event.id, event.type, event.data.object);
      case 'charge.refunded': {
        const charge = event.data.object;
        const key = idOf(charge.payment_intent) ?? `charge:${charge.id}`;
        return this.alertIfLegacy(event, key, (await this.ledger.applyRefund(event.id, event.type, key, charge.amount_refunded)) as WebhookOutcome);
      }
      case 'charge.dispute.created':
      case 'charge.dispute.updated':
      case 'charge.dispute.closed': {
        const dispute = event.data.object;
        const key = idOf(dispute.payment_intent) ?? `charge:${idOf(dispute.charge) ?? dispute.id}`;
        return this.alertIfLegacy(event, key, (await this.ledger.applyDispute(event.id, event.type, key, dispute.status)) as WebhookOutcome);
      }
      default:
        // Stripe sends what the endpoint subscribes to, and more over time: acknowledged, unused.
        return 'ignored';
    }
  }

  /**
   * A refund or dispute of a payment the old Masterpost took: its credits came across inside the
   * opening balance, so how many to take back is an operator's call (docs/operations.md).
   */
  private alertIfLegacy(event: Stripe.Event, paymentKey: string, outcome: WebhookOutcome): WebhookOutcome {
    if (outcome === 'legacy') this.logger.error({ eventId: event.id, type: event.type, paymentKey }, 'ALERT: a refund or dispute of a payment the old app took: take the credits back by hand if due');
    return outcome;
  }

  private async applyCheckout(eventId: string, type: string, session: Stripe.Checkout.Session): Promise<WebhookOutcome> {
    const userId = session.metadata?.user_id;
    const pack = this.packs.find((candidate) => candidate.id === session.metadata?.pack_id);
    if (!userId || !pack) {
      this.logger.warn({ eventId, sessionId: session.id }, 'a Checkout Session without our user and pack metadata: not ours, ignored');
      return 'ignored';
    }
    if (session.amount_total !== pack.price_cents) {
      this.logger.error({ eventId, sessionId: session.id, amount: session.amount_total, pack: pack.id }, 'ALERT: a Checkout Session paid another price than its pack: nothing granted');
      return 'ignored';
    }
    const failed = type === 'checkout.session.async_payment_failed';
    const outcome = (await this.ledger.applyCheckout({
      eventId,
      type,
      paymentKey: idOf(session.payment_intent) ?? `session:${session.id}`,
      sessionId: session.id,
      userId,
      packId: pack.id,
      credits: pack.credits,
      amountCents: pack.price_cents,
      paid: !failed && session.payment_status === 'paid',
      failed,
      description: `Bought ${pack.name} (${pack.credits} credits)`,
    })) as WebhookOutcome;
    if (outcome === 'granted') await this.sendReceipt(userId, pack, session.id);
    return outcome;
  }

  /**
   * The receipt mail, once per session. Written after the grant's transaction: should billing die
   * in between, the credits are there and the receipt is not (the redelivery is a duplicate), so a
   * failure here is logged, never turned into a refused webhook.
   */
  private async sendReceipt(userId: string, pack: Pack, sessionId: string): Promise<void> {
    const data = { pack: pack.name, credits: pack.credits, amount_cents: pack.price_cents, currency: pack.currency, reference: sessionId };
    await this.ledger.queueNotice(userId, 'receipt', data, `receipt:${sessionId}`).catch((error: Error) => {
      this.logger.error({ sessionId, err: error.message }, 'the credits were granted but the receipt mail could not be written');
    });
  }
}
