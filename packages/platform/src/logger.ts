import pino, { type Logger } from 'pino';
import { currentRequestId } from './request-context';
import { traceIds } from './tracing';

export type { Logger };

/**
 * Structured logs. Anything that could carry a secret or a password is redacted here, once,
 * for every service (reliability 36).
 */
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    // A bad LOG_LEVEL is reported by the service's config check; the logger must still work to say so.
    level: LEVELS.has(level) ? level : 'info',
    // Every line written while a request (or a job it queued) is handled names the request.
    // With tracing on, the line also names its trace and span (a log search finds the trace).
    mixin: () => {
      const requestId = currentRequestId();
      return { ...(requestId ? { requestId } : {}), ...traceIds() };
    },
    redact: {
      paths: [
        'password',
        '*.password',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'req.headers.authorization',
        'req.headers.cookie',
        'access_token',
        '*.access_token',
        'apiKey',
        '*.apiKey',
        'secret',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}

/**
 * The error listener for what reconnects by itself (Redis, a PostgreSQL pool, BullMQ's queues):
 * every error is logged, but one message at most once per `everyMs`, not at every retry of an
 * outage. Without a listener the error event would crash the process; a silent one would hide it.
 */
export function logConnectionErrors(logger: Logger, what: string, everyMs = 30_000): (error: Error) => void {
  const lastLogged = new Map<string, number>();
  return (error) => {
    const now = Date.now();
    if ((lastLogged.get(error.message) ?? 0) + everyMs > now) return;
    lastLogged.set(error.message, now);
    logger.warn({ err: error.message }, `${what}: connection error (it retries by itself)`);
  };
}
