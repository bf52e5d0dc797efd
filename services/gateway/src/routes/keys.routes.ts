import { Router } from 'express';
import { apiKeyCreateRequest, parseInput } from '@masterpost/contracts';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { ApiKeysService } from '../services/api-keys.service';
import type { RequestHandler } from 'express';

/** A seller's API keys: create (the key shown once), list, revoke. */
export function keysRoutes(deps: { keys: ApiKeysService; authenticate: ReturnType<typeof requireUser>; verifiedAddress: RequestHandler }): Router {
  const router = Router();
  router.post('/api/v1/keys', deps.authenticate, deps.verifiedAddress, async (req, res) => {
    const { name } = parseInput(apiKeyCreateRequest, req.body ?? {});
    res.status(201).set('cache-control', 'no-store').json(await deps.keys.create(currentUser(req).sub, name));
  });
  router.get('/api/v1/keys', deps.authenticate, async (req, res) => {
    res.json(await deps.keys.list(currentUser(req).sub));
  });
  router.delete('/api/v1/keys/:keyId', deps.authenticate, async (req, res) => {
    res.json(await deps.keys.revoke(currentUser(req).sub, String(req.params.keyId)));
  });
  return router;
}
