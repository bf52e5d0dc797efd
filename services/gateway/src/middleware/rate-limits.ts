import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { AppError, ErrorCode } from '@masterpost/contracts';
import { type IORedis } from '@masterpost/platform';
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
}

export interface RateLimits {
  auth: RequestHandler;
  uploads: RequestHandler;
  process: RequestHandler;
  edits: RequestHandler;
}

export function createRateLimits(redis: IORedis, prefix: string, settings: RateLimitSettings): RateLimits {
  const limiter = (name: string, perMinute: number, what: string, perUser: boolean): RequestHandler =>
    rateLimit({
      windowMs: 60_000,
      limit: perMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      store: new RedisStore({
        prefix: `${prefix}:rate:${name}:`,
        sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
      }),
      ...(perUser ? { keyGenerator: (req) => currentUser(req).sub } : {}),
      handler: (_req, _res, next) => next(new AppError(429, ErrorCode.RateLimited, `too many ${what}; at most ${perMinute} a minute, try again shortly`)),
    });
  return {
    auth: limiter('auth', settings.authPerMinute, 'sign-in attempts from this address', false),
    uploads: limiter('uploads', settings.uploadsPerMinute, 'uploads', true),
    process: limiter('process', settings.processPerMinute, 'processing requests', true),
    // An editing seller sends an edit every few seconds; each costs a processor up to a second.
    edits: limiter('edits', settings.editsPerMinute, 'edits', true),
  };
}
