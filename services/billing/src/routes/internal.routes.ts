import { timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError, ErrorCode, parseInput as parse, type Pack } from '@masterpost/contracts';
import type { LedgerStore } from '../ledger/ledger.repository';
import type { CheckoutService } from '../stripe/checkout.service';

/** Constant-time comparison of the caller's service token with ours. */
export function requireServiceToken(token: string) {
  const expected = Buffer.from(token);
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      next(new AppError(401, ErrorCode.Unauthorized, 'a valid service credential is required'));
      return;
    }
    next();
  };
}

const reference = z.string().min(1).max(200);
const credits = z.number().int().positive().max(10_000_000);
const description = z.string().max(500).default('');

const grantBody = z.strictObject({
  userId: z.uuid(),
  amount: credits,
  kind: z.enum(['signup', 'purchase', 'adjustment']),
  reference,
  description,
});
const holdBody = z.strictObject({
  userId: z.uuid(),
  amount: credits,
  reference,
  ttlSeconds: z.number().int().min(1).max(30 * 24 * 3600),
  description,
});
const settleBody = z.strictObject({ holdReference: reference, amount: credits.or(z.literal(0)), reference, description });
const releaseBody = z.strictObject({ holdReference: reference, amount: credits.or(z.literal(0)).nullable(), reference, description });
const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(/^\d+$/).optional(),
});
const checkoutBody = z.strictObject({ userId: z.uuid(), email: z.email(), pack: z.string().min(1).max(64) });

export function internalRoutes(deps: { ledger: LedgerStore; packs: Pack[]; checkout: CheckoutService | null; serviceToken: string }): Router {
  const router = Router();
  router.use(requireServiceToken(deps.serviceToken));

  router.get('/accounts/:userId', async (req, res) => {
    const userId = parse(z.uuid(), req.params.userId);
    res.json(await deps.ledger.account(userId));
  });

  router.get('/accounts/:userId/history', async (req, res) => {
    const userId = parse(z.uuid(), req.params.userId);
    const query = parse(historyQuery, req.query);
    const items = await deps.ledger.history(userId, query.limit + 1, query.cursor);
    const page = items.slice(0, query.limit);
    res.json({ items: page, next_cursor: items.length > query.limit ? (page.at(-1)?.id ?? null) : null });
  });

  router.post('/grants', async (req, res) => {
    const body = parse(grantBody, req.body);
    const result = await deps.ledger.grant(body.userId, body.amount, body.kind, body.reference, body.description);
    res.status(result.applied ? 201 : 200).json(result);
  });

  router.post('/holds', async (req, res) => {
    const body = parse(holdBody, req.body);
    const result = await deps.ledger.hold(body.userId, body.amount, body.reference, body.ttlSeconds, body.description);
    res.status(result.status === 'held' ? 201 : 200).json(result);
  });

  router.post('/captures', async (req, res) => {
    const body = parse(settleBody, req.body);
    res.json(await deps.ledger.settle(body.holdReference, 'capture', body.amount, body.reference, body.description));
  });

  router.post('/releases', async (req, res) => {
    const body = parse(releaseBody, req.body);
    res.json(await deps.ledger.settle(body.holdReference, 'release', body.amount, body.reference, body.description));
  });

  router.get('/packs', (_req, res) => {
    res.json(deps.packs);
  });

  router.post('/checkout', async (req, res) => {
    const body = parse(checkoutBody, req.body);
    if (!deps.checkout) {
      throw new AppError(503, ErrorCode.PaymentsUnavailable, 'payments are not configured on this server (STRIPE_SECRET_KEY is not set)');
    }
    const pack = deps.packs.find((candidate) => candidate.id === body.pack);
    if (!pack) {
      throw new AppError(400, ErrorCode.InvalidInput, `pack: unknown pack ${JSON.stringify(body.pack)}`, {
        field: 'pack',
        packs: deps.packs.map((candidate) => candidate.id),
      });
    }
    res.status(201).json(await deps.checkout.createSession(body.userId, body.email, pack));
  });

  return router;
}
