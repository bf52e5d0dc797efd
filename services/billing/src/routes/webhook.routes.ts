import express, { Router } from 'express';
import type Stripe from 'stripe';
import { AppError, ErrorCode } from '@masterpost/contracts';
import { type Logger } from '@masterpost/platform';
import type { WebhookService } from '../stripe/webhook.service';

/** Stripe signs the raw bytes: the body must reach `constructEvent` exactly as sent. */
/**
 * Verified events are applied before the answer: an error (Postgres down) answers 5xx, and
 * Stripe delivers the event again later, when it is applied once.
 */
export function webhookRoutes(deps: { stripe: Stripe | null; webhookSecret: string | undefined; webhooks: WebhookService; logger: Logger }): Router {
  const router = Router();
  router.post('/payments/webhook', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    if (!deps.stripe || !deps.webhookSecret) {
      throw new AppError(503, ErrorCode.PaymentsUnavailable, 'payments are not configured on this server');
    }
    const signature = req.get('stripe-signature');
    if (!signature || !Buffer.isBuffer(req.body)) {
      throw new AppError(400, ErrorCode.InvalidSignature, 'the Stripe-Signature header is missing');
    }
    let event: Stripe.Event;
    try {
      event = deps.stripe.webhooks.constructEvent(req.body, signature, deps.webhookSecret, 300);
    } catch {
      throw new AppError(400, ErrorCode.InvalidSignature, 'the Stripe signature does not match this body, or is too old');
    }
    const outcome = await deps.webhooks.apply(event);
    deps.logger.info({ eventId: event.id, type: event.type, outcome }, 'stripe event');
    res.json({ received: true, outcome });
  });
  return router;
}
