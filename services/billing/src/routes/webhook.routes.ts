import express, { Router } from 'express';
import type Stripe from 'stripe';
import { AppError, ErrorCode } from '@masterpost/shared';
import type { WebhookService } from '../stripe/webhook.service';

/** Stripe signs the raw bytes: the body must reach `constructEvent` exactly as sent. */
export function webhookRoutes(deps: { stripe: Stripe | null; webhookSecret: string | undefined; webhooks: WebhookService }): Router {
  const router = Router();
  router.post('/payments/webhook', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    if (!deps.stripe || !deps.webhookSecret) {
      throw new AppError(503, ErrorCode.PaymentsUnavailable, 'payments are not configured on this server');
    }
    const signature = req.get('stripe-signature');
    if (!signature || !Buffer.isBuffer(req.body)) {
      throw new AppError(400, 'invalid_signature', 'the Stripe-Signature header is missing');
    }
    let event: Stripe.Event;
    try {
      event = deps.stripe.webhooks.constructEvent(req.body, signature, deps.webhookSecret, 300);
    } catch {
      throw new AppError(400, 'invalid_signature', 'the Stripe signature does not match this body, or is too old');
    }
    await deps.webhooks.apply(event);
    res.json({ received: true });
  });
  return router;
}
