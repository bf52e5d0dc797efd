import { Router } from 'express';
import { credentials, parseInput } from '@masterpost/contracts';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { AccountsService } from '../services/accounts.service';

function parseCredentials(body: unknown) {
  const { email, password } = parseInput(credentials, body);
  return { email: email.trim().toLowerCase(), password };
}

export function authRoutes(deps: { accounts: AccountsService; authenticate: ReturnType<typeof requireUser> }): Router {
  const router = Router();

  router.post('/auth/register', async (req, res) => {
    const { email, password } = parseCredentials(req.body);
    res.status(201).json(await deps.accounts.register(email, password));
  });

  router.post('/auth/login', async (req, res) => {
    const { email, password } = parseCredentials(req.body);
    res.json(await deps.accounts.login(email, password));
  });

  router.get('/auth/me', deps.authenticate, async (req, res) => {
    res.json(await deps.accounts.me(currentUser(req)));
  });

  return router;
}
