import { Router } from 'express';
import { z } from 'zod';
import { AppError, ErrorCode, parseInput } from '@masterpost/contracts';
import { type BillingClient } from '@masterpost/platform';
import { currentUser, type requireUser } from '../middleware/auth.middleware';

const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d+$/).optional(),
});

export function creditsRoutes(deps: { billing: BillingClient; authenticate: ReturnType<typeof requireUser> }): Router {
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
    const pack = (req.body as { pack?: unknown } | undefined)?.pack;
    if (typeof pack !== 'string') throw new AppError(400, ErrorCode.InvalidInput, 'pack is required', { field: 'pack' });
    const user = currentUser(req);
    res.status(201).json(await deps.billing.checkout({ userId: user.sub, email: user.email, pack }));
  });
  return router;
}
