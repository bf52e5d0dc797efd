import { Router } from 'express';
import { checkoutRequest, historyQuery, parseInput } from '@masterpost/contracts';
import { type BillingClient } from '@masterpost/platform';
import { currentUser, type requireUser } from '../middleware/auth.middleware';

/** Credits are billing's: these routes pass the signed-in seller's requests through to it. */
export function creditsRoutes(deps: { billing: BillingClient; authenticate: ReturnType<typeof requireUser>; emailOf: (userId: string) => Promise<string | null> }): Router {
  const router = Router();
  router.get('/credits/balance', deps.authenticate, async (req, res) => {
    res.json(await deps.billing.account(currentUser(req).sub));
  });
  router.get('/credits/history', deps.authenticate, async (req, res) => {
    const query = parseInput(historyQuery, req.query);
    res.json(await deps.billing.history(currentUser(req).sub, query.limit, query.cursor));
  });
  router.get('/payments/packs', async (_req, res) => {
    res.json(await deps.billing.packs());
  });
  router.post('/payments/checkout', deps.authenticate, async (req, res) => {
    const { pack } = parseInput(checkoutRequest, req.body ?? {});
    const user = currentUser(req);
    // The address now, not the one the session was signed with (it may have changed since): Stripe mails its receipt there.
    const email = (await deps.emailOf(user.sub)) ?? user.email;
    res.status(201).json(await deps.billing.checkout({ userId: user.sub, email, pack }));
  });
  return router;
}
