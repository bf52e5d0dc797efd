import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { AppError, ErrorCode } from '@masterpost/contracts';
import { scriptCommandSender, type RedisConnection } from '@masterpost/platform';
import { currentUser } from './auth.middleware';

/**
 * Limits kept in Redis, so every gateway instance counts against the same totals: sign-in and
 * sign-up per client address (behind `trust proxy`, the address our own proxy saw, not one a
 * client wrote into X-Forwarded-For), uploads, processing and editor requests per signed-in user.
 */
export interface RateLimitSettings {
  authPerMinute: number;
  uploadsPerMinute: number;
  processPerMinute: number;
  editsPerMinute: number;
  /** Mails (verification, reset, email change) asked for per client address, and per address mailed, an hour. */
  mailsPerClientPerHour: number;
  mailsPerAddressPerHour: number;
}

export interface RateLimits {
  auth: RequestHandler;
  uploads: RequestHandler;
  process: RequestHandler;
  edits: RequestHandler;
  mailsFromClient: RequestHandler;
  /** Counts per the address a request would mail (read from its body or its seller). */
  mailsToAddress: (addressOf: (req: Request) => string | undefined) => RequestHandler;
  exports: RequestHandler;
}

export function createRateLimits(redis: RedisConnection, prefix: string, settings: RateLimitSettings): RateLimits {
  // Every counter key starts with the prefix, so on a cluster all of them share its slot; the
  // store's scripts are loaded on every primary (scriptCommandSender), not on a random one.
  const send = scriptCommandSender(redis);
  const limiter = (name: string, perMinute: number, what: string, perUser: boolean): RequestHandler =>
    windowLimiter({ name, limit: perMinute, windowMs: 60_000, what: `${what}; at most ${perMinute} a minute`, ...(perUser ? { keyOf: (req) => currentUser(req).sub } : {}) });
  const windowLimiter = (options: { name: string; limit: number; windowMs: number; what: string; keyOf?: (req: Request) => string }): RequestHandler =>
    rateLimit({
      windowMs: options.windowMs,
      limit: options.limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      store: new RedisStore({
        prefix: `${prefix}:rate:${options.name}:`,
        sendCommand: (command: string, ...args: string[]) => send(command, ...args) as Promise<RedisReply>,
      }),
      ...(options.keyOf ? { keyGenerator: options.keyOf } : {}),
      handler: (_req, _res, next) => next(new AppError(429, ErrorCode.RateLimited, `too many ${options.what}, try again later`)),
    });
  const hour = 3600_000;
  return {
    auth: limiter('auth', settings.authPerMinute, 'sign-in attempts from this address', false),
    uploads: limiter('uploads', settings.uploadsPerMinute, 'uploads', true),
    process: limiter('process', settings.processPerMinute, 'processing requests', true),
    // An editing seller sends an edit every few seconds; each costs a processor up to a second.
    edits: limiter('edits', settings.editsPerMinute, 'edits', true),
    mailsFromClient: windowLimiter({ name: 'mails-client', limit: settings.mailsPerClientPerHour, windowMs: hour, what: `mails asked for from this address; at most ${settings.mailsPerClientPerHour} an hour` }),
    mailsToAddress: (addressOf) =>
      windowLimiter({
        name: 'mails-address',
        limit: settings.mailsPerAddressPerHour,
        windowMs: hour,
        what: `mails to this address; at most ${settings.mailsPerAddressPerHour} an hour`,
        // Several routes share the count of one address; a request naming none is counted by client.
        keyOf: (req) => addressOf(req)?.trim().toLowerCase() ?? `client:${ipKeyGenerator(req.ip ?? '')}`,
      }),
    // An export reads every file the seller has: a few an hour is plenty.
    exports: windowLimiter({ name: 'exports', limit: 5, windowMs: hour, what: 'exports; at most 5 an hour', keyOf: (req) => currentUser(req).sub }),
  };
}
