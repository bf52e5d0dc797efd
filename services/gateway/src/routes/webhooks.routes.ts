import { Router, type RequestHandler } from 'express';
import { parseInput, rotateSecretRequest, webhookEndpointCreateRequest } from '@masterpost/contracts';
import { currentUser, type requireUser } from '../middleware/auth.middleware';
import type { WebhooksService } from '../services/webhooks.service';

/** A seller's webhook endpoints and their deliveries (WebhooksService does the work). */
export function webhooksRoutes(deps: { webhooks: WebhooksService; authenticate: ReturnType<typeof requireUser>; verifiedAddress: RequestHandler }): Router {
  const router = Router();
  const { webhooks } = deps;
  router.post('/api/v1/webhooks', deps.authenticate, deps.verifiedAddress, async (req, res) => {
    const request = parseInput(webhookEndpointCreateRequest, req.body ?? {});
    res.status(201).set('cache-control', 'no-store').json(await webhooks.create(currentUser(req).sub, request));
  });
  router.get('/api/v1/webhooks', deps.authenticate, async (req, res) => {
    res.json(await webhooks.list(currentUser(req).sub));
  });
  router.delete('/api/v1/webhooks/:endpointId', deps.authenticate, async (req, res) => {
    res.json(await webhooks.remove(currentUser(req).sub, String(req.params.endpointId)));
  });
  router.post('/api/v1/webhooks/:endpointId/rotate-secret', deps.authenticate, async (req, res) => {
    const { overlap_seconds } = parseInput(rotateSecretRequest, req.body ?? {});
    res.set('cache-control', 'no-store').json(await webhooks.rotateSecret(currentUser(req).sub, String(req.params.endpointId), overlap_seconds));
  });
  router.post('/api/v1/webhooks/:endpointId/enable', deps.authenticate, async (req, res) => {
    res.json(await webhooks.enable(currentUser(req).sub, String(req.params.endpointId)));
  });
  router.get('/api/v1/webhooks/:endpointId/deliveries', deps.authenticate, async (req, res) => {
    res.json(await webhooks.deliveries(currentUser(req).sub, String(req.params.endpointId)));
  });
  router.post('/api/v1/webhooks/:endpointId/deliveries/:deliveryId/redeliver', deps.authenticate, async (req, res) => {
    res.status(202).json(await webhooks.redeliver(currentUser(req).sub, String(req.params.endpointId), String(req.params.deliveryId)));
  });
  return router;
}
