import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_PATTERN } from '@masterpost/contracts';
import type { Logger } from './logger';

/**
 * A request's id, from the moment it arrives to every call it makes: answered as X-Request-Id,
 * written in the request's log line, and sent on to billing (which logs it too), so one id finds
 * a request in every service it touched.
 */
const context = new AsyncLocalStorage<{ requestId: string }>();
/** Probes and scrapes would drown the log: they are answered with an id, but not logged. */
const QUIET = new Set(['/health', '/ready', '/metrics']);

export function currentRequestId(): string | undefined {
  return context.getStore()?.requestId;
}

/** Runs `work` as part of a request (a queued job carries the id of the request that made it). */
export function runWithRequestId<T>(requestId: string, work: () => T): T {
  return context.run({ requestId }, work);
}

/** Express middleware (first in the chain): the id (the caller's, when it sent a sane one), the answer's header, one log line. */
export function requestContext(logger: Logger): (req: IncomingMessage & { route?: { path?: string } }, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    const path = (req.url ?? '').split('?')[0] ?? '';
    res.on('finish', () => {
      if (QUIET.has(path)) return;
      // The route's pattern, not the path: ids stay out of the log's cardinality, keys out of it entirely.
      const route = req.route?.path ?? path;
      logger.info({ requestId, method: req.method, route, status: res.statusCode, ms: Number((process.hrtime.bigint() - started) / 1_000_000n) }, 'request');
    });
    context.run({ requestId }, next);
  };
}
