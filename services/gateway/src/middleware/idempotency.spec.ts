import { randomBytes } from 'node:crypto';
import express from 'express';
import IORedis from 'ioredis';
import request from 'supertest';
import { toErrorResponse } from '@masterpost/contracts';
import { idempotent } from './idempotency';

/**
 * The Idempotency-Key middleware against the machine's Redis: a request whose gateway died
 * mid-way leaves its key blocked only as long as such a request may run, not for a day.
 */
const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `mpt-idem-${randomBytes(4).toString('hex')}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

function app(handler: express.RequestHandler) {
  const server = express();
  server.use(express.json());
  server.use((req, _res, next) => {
    req.user = { sub: 'user-1', email: 'a@example.com' } as never;
    next();
  });
  server.post('/api/v1/process', idempotent(redis, prefix, 'process', { runningSeconds: 2 }), handler);
  server.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const { status, body } = toErrorResponse(error);
    res.status(status).json(body);
  });
  return server;
}

test('a request that never answered (its gateway died) frees its key once the request bound passes', async () => {
  // This gateway "dies" in the handler: it never answers.
  const dying = app(() => undefined);
  await request(dying).post('/api/v1/process').set('idempotency-key', 'dead-gateway-1').send({ job_id: 'a' }).timeout(300).catch(() => undefined);
  const healthy = app((_req, res) => {
    res.status(202).json({ ok: true });
  });
  const blocked = await request(healthy).post('/api/v1/process').set('idempotency-key', 'dead-gateway-1').send({ job_id: 'a' });
  expect(blocked.status).toBe(409);
  expect(blocked.body.error.code).toBe('request_in_progress');
  expect(await redis.ttl(`${prefix}:idempotency:process:user-1:dead-gateway-1`)).toBeLessThanOrEqual(2);
  await new Promise((resolve) => setTimeout(resolve, 2_300));
  await request(healthy).post('/api/v1/process').set('idempotency-key', 'dead-gateway-1').send({ job_id: 'a' }).expect(202);
});
