import { Router } from 'express';
import { credentials, loginRequest, parseInput, passwordChangeRequest } from '@masterpost/contracts';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { AccountsService } from '../services/accounts.service';

function parseCredentials(body: unknown) {
  const { email, password } = parseInput(credentials, body);
  return { email: email.trim().toLowerCase(), password };
}

export function authRoutes(deps: {
  accounts: AccountsService;
  authenticate: ReturnType<typeof requireUser>;
  /** A signed-in session, not an API key: a leaked key must not be able to take the account. */
  authenticateSession: ReturnType<typeof requireUser>;
}): Router {
  const router = Router();

  router.post('/auth/register', async (req, res) => {
    const { email, password } = parseCredentials(req.body);
    res.status(201).json(await deps.accounts.register(email, password));
  });

  router.post('/auth/login', async (req, res) => {
    const body = parseInput(loginRequest, req.body);
    const email = body.email.trim().toLowerCase();
    res.json('access_code' in body ? await deps.accounts.loginWithAccessCode(email, body.access_code) : await deps.accounts.login(email, body.password));
  });

  router.post('/auth/password', deps.authenticateSession, async (req, res) => {
    const body = parseInput(passwordChangeRequest, req.body);
    res.json(await deps.accounts.changePassword(currentUser(req), body.current_password, body.new_password));
  });

  router.get('/auth/me', deps.authenticate, async (req, res) => {
    res.json(await deps.accounts.me(currentUser(req)));
  });

  return router;
}
