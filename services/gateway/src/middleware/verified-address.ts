import type { RequestHandler } from 'express';
import { AppError, ErrorCode } from '@masterpost/contracts';
import { currentUser } from './auth.middleware';

/**
 * What only a proven address may do (with EMAIL_VERIFICATION=required): spend, and make the API
 * keys and webhooks that outlive a session. Otherwise whoever signed up with someone else's
 * address could leave a key behind that still works once its owner resets the password.
 */
export function requireVerifiedAddress(isVerified: ((userId: string) => Promise<boolean>) | null): RequestHandler {
  return (req, _res, next) => {
    if (!isVerified) return next();
    isVerified(currentUser(req).sub).then(
      (verified) => next(verified ? undefined : new AppError(403, ErrorCode.EmailNotVerified, 'confirm your email first: follow the link we mailed you (or ask for a new one)')),
      next,
    );
  };
}
