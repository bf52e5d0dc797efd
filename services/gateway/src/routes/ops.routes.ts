import { Router } from 'express';
import type { Registry } from 'prom-client';

/** Liveness, readiness (each dependency named with its state) and Prometheus metrics. */
export function opsRoutes(deps: { registry: Registry; checks: () => Promise<Record<string, string>> }): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok', pid: process.pid });
  });
  router.get('/ready', async (_req, res) => {
    const checks = await deps.checks();
    const ok = Object.entries(checks).every(([name, value]) => value === 'ok' || name === 'ai_provider');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  return router;
}
