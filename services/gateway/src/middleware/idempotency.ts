import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError, ErrorCode } from '@masterpost/contracts';
import { type RedisConnection } from '@masterpost/platform';
import { currentUser } from './auth.middleware';

/**
 * `Idempotency-Key` on a POST, as the IETF draft (httpapi-idempotency-key-header) has it: the
 * first request with a key runs and its answer is kept for a day; a repeat of the same request
 * (a client retrying after a timeout, a double submit) gets the same answer without running
 * again: one job, one reservation. The same key with a different request is refused with 422
 * naming the mismatch, never answered with the first request's result. A repeat while the first
 * still runs gets 409; that marker lives only as long as the request may take, so a gateway that
 * died mid-request frees the key by itself. A key whose request failed (an answer other than
 * 2xx) is freed so the client can retry. Keys are per user and per route.
 */
const TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

interface StoredRequest {
  state: 'running' | 'done';
  fingerprint?: string;
  status?: number;
  body?: unknown;
}

/**
 * What makes two requests the same: the route and, for JSON, the body; for a body not read yet
 * (a multipart upload, a picture sent raw), its media type, length and query (a client retrying
 * sends the same files, and the same number of bytes).
 */
function fingerprintOf(req: Request): string {
  const route = `${req.method} ${req.baseUrl}${req.path}`;
  // A body not read yet (multipart, or a picture sent raw) is known by its type, length and query.
  // (A multipart boundary differs from one try to the next, so only the media type counts.)
  const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const content = req.is('application/json')
    ? JSON.stringify(req.body ?? null)
    : `${mediaType}:${req.get('content-length') ?? 'chunked'}:${JSON.stringify(req.query)}`;
  return createHash('sha256').update(`${route}\n${content}`).digest('hex');
}

/**
 * `replay`: a route whose answer is not JSON (the one-call picture route answers bytes) keeps
 * what identifies its result with `res.locals.rememberIdempotent(value)` and answers a repeat
 * from it; other routes' JSON answers are kept and answered again as they are.
 */
export interface IdempotencyOptions {
  runningSeconds: number;
  replay?: (req: Request, res: Response, remembered: unknown) => Promise<void>;
}

export function idempotent(redis: RedisConnection, prefix: string, scope: string, options: IdempotencyOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = req.get('idempotency-key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      return next(new AppError(400, ErrorCode.InvalidInput, 'Idempotency-Key must be 8 to 128 letters, digits or . _ : -', { field: 'Idempotency-Key' }));
    }
    const storeKey = `${prefix}:idempotency:${scope}:${currentUser(req).sub}:${key}`;
    const fingerprint = fingerprintOf(req);
    void (async () => {
      const running: StoredRequest = { state: 'running', fingerprint };
      const claimed = await redis.set(storeKey, JSON.stringify(running), 'EX', options.runningSeconds, 'NX');
      if (claimed !== 'OK') {
        const raw = await redis.get(storeKey);
        const stored = raw ? (JSON.parse(raw) as StoredRequest) : null;
        // A marker without a fingerprint predates them: it is taken as the same request.
        if (stored?.fingerprint !== undefined && stored.fingerprint !== fingerprint) {
          next(new AppError(422, ErrorCode.IdempotencyKeyReused, `this Idempotency-Key was first used with a different request to ${req.method} ${req.baseUrl}${req.path} (another body or job); use a new key for a new request`, { field: 'Idempotency-Key' }));
          return;
        }
        if (stored?.state === 'done' && stored.status !== undefined) {
          res.set('idempotent-replayed', 'true');
          if (options.replay) return options.replay(req, res, stored.body).catch(next);
          res.status(stored.status).json(stored.body);
          return;
        }
        next(new AppError(409, ErrorCode.RequestInProgress, 'a request with this Idempotency-Key is still being handled; retry shortly'));
        return;
      }
      const save = (status: number, body: unknown) => {
        const done: StoredRequest = { state: 'done', fingerprint, status, body };
        const saved = status >= 200 && status < 300 ? redis.set(storeKey, JSON.stringify(done), 'EX', TTL_SECONDS) : redis.del(storeKey);
        void saved.catch(() => undefined);
      };
      let remembered = false;
      res.locals.rememberIdempotent = (value: unknown) => {
        remembered = true;
        save(200, value);
      };
      const send = res.json.bind(res);
      res.json = (body: unknown) => {
        if (!remembered) save(res.statusCode, body);
        return send(body);
      };
      next();
    })().catch(next);
  };
}
