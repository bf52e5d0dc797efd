import { Router } from 'express';
import { z } from 'zod';
import { AppError, ErrorCode, ledgerReference, parseInput } from '@masterpost/contracts';
import { type BillingClient } from '@masterpost/platform';
import type { UsersRepository } from '../adapters/users.repository';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import { decoyPasswordHash, hashPassword, verifyPassword, type TokenService } from '../services/auth.service';

const credentials = z.strictObject({
  email: z.email().max(254),
  password: z.string().min(8, 'must be at least 8 characters').max(200),
});

function parseCredentials(body: unknown) {
  const { email, password } = parseInput(credentials, body);
  return { email: email.trim().toLowerCase(), password };
}

export function authRoutes(deps: {
  users: UsersRepository;
  tokens: TokenService;
  billing: BillingClient;
  signupCredits: number;
  authenticate: ReturnType<typeof requireUser>;
}): Router {
  const router = Router();
  const session = async (user: { id: string; email: string }) => {
    const credits = await deps.billing.account(user.id);
    return { user: { id: user.id, email: user.email }, access_token: deps.tokens.issue({ sub: user.id, email: user.email }), token_type: 'bearer', credits };
  };

  router.post('/auth/register', async (req, res) => {
    const { email, password } = parseCredentials(req.body);
    const user = await deps.users.create(email, await hashPassword(password));
    if (!user) throw new AppError(409, ErrorCode.EmailTaken, 'an account with this email already exists');
    if (deps.signupCredits > 0) {
      // Keyed by email: a deleted and re-created account does not get the trial twice.
      await deps.billing.grant({ userId: user.id, amount: deps.signupCredits, kind: 'signup', reference: ledgerReference.signup(email), description: 'Free trial credits' });
    }
    res.status(201).json(await session(user));
  });

  router.post('/auth/login', async (req, res) => {
    const { email, password } = parseCredentials(req.body);
    const user = await deps.users.findByEmail(email);
    // Same work whether or not the email exists: the answer's timing tells nothing.
    const matches = await verifyPassword(password, user?.password_hash ?? (await decoyPasswordHash()));
    if (!user || !matches) throw new AppError(401, ErrorCode.InvalidCredentials, 'wrong email or password');
    res.json(await session(user));
  });

  router.get('/auth/me', deps.authenticate, async (req, res) => {
    const user = currentUser(req);
    res.json({ id: user.sub, email: user.email, credits: await deps.billing.account(user.sub) });
  });

  return router;
}
