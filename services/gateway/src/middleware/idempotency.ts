import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError, ErrorCode, type IORedis } from '@masterpost/shared';
import { currentUser } from './auth.middleware';

/**
 * `Idempotency-Key` on a POST: the first request with a key runs and its answer is kept for a
 * day; a repeat (a client retrying after a timeout, a double submit) gets the same answer
 * without running again: one job, one reservation. A repeat while the first still runs gets
 * 409. A key whose request failed (an answer other than 2xx) is freed so the client can retry.
 * Keys are per user and per route, so nobody can replay another's answer.
 */
const TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

export function idempotent(redis: IORedis, prefix: string, scope: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      return next(new AppError(400, ErrorCode.InvalidInput, 'Idempotency-Key must be 8 to 128 letters, digits or . _ : -', { field: 'Idempotency-Key' }));
    }
    const storeKey = `${prefix}:idempotency:${scope}:${currentUser(req).sub}:${key}`;
    void (async () => {
      const claimed = await redis.set(storeKey, JSON.stringify({ state: 'running' }), 'EX', TTL_SECONDS, 'NX');
      if (claimed !== 'OK') {
        const stored = JSON.parse((await redis.get(storeKey)) ?? '{"state":"running"}') as { state: string; status?: number; body?: unknown };
        if (stored.state === 'done' && stored.status !== undefined) {
          res.status(stored.status).set('idempotent-replayed', 'true').json(stored.body);
          return;
        }
        next(new AppError(409, 'request_in_progress', 'a request with this Idempotency-Key is still being handled; retry shortly'));
        return;
      }
      const send = res.json.bind(res);
      res.json = (body: unknown) => {
        const status = res.statusCode;
        const saved = status >= 200 && status < 300 ? redis.set(storeKey, JSON.stringify({ state: 'done', status, body }), 'EX', TTL_SECONDS) : redis.del(storeKey);
        void saved.catch(() => undefined);
        return send(body);
      };
      next();
    })().catch(next);
  };
}
