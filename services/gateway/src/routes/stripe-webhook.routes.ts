import express, { Router } from 'express';

/**
 * POST /payments/webhook on the public host (the old frontend's path): Stripe's bytes and
 * signature are passed to billing untouched, since the signature covers the raw body, and
 * billing's answer is passed back, so a billing error still makes Stripe retry.
 */
export function stripeWebhookRoutes(deps: { billingUrl: string }): Router {
  const router = Router();
  router.post('/payments/webhook', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const headers: Record<string, string> = { 'content-type': req.get('content-type') ?? 'application/json' };
    const signature = req.get('stripe-signature');
    if (signature) headers['stripe-signature'] = signature;
    const requestId = res.getHeader('x-request-id');
    if (typeof requestId === 'string') headers['x-request-id'] = requestId;
    let answer: Response;
    try {
      answer = await fetch(new URL('/payments/webhook', deps.billingUrl), {
        method: 'POST',
        headers,
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        signal: AbortSignal.timeout(20_000),
      });
    } catch {
      res.status(503).json({ error: { code: 'service_unavailable', message: 'billing is unavailable; Stripe will retry' } });
      return;
    }
    res.status(answer.status).type(answer.headers.get('content-type') ?? 'application/json').send(Buffer.from(await answer.arrayBuffer()));
  });
  return router;
}
