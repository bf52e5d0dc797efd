import type { NextFunction, Request, Response } from 'express';
import { AppError, ErrorCode } from '@masterpost/contracts';
import { looksLikeApiKey, type ApiKeysService } from '../services/api-keys.service';
import type { TokenClaims, TokenService } from '../services/auth.service';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: TokenClaims;
    }
  }
}

/** The cookie the web page sets so an admin's browser can open Bull Board (GET only). */
export const SESSION_COOKIE = 'mp_token';

function cookieToken(req: Request): string | null {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return null;
}

/**
 * A seller, by a session token (`Authorization: Bearer <access_token>`) or an API key
 * (`X-API-Key: mp_...`, or `Authorization: Bearer mp_...`). Keys are looked up at every request,
 * so a revoked key is refused at once by every gateway.
 */
export function requireUser(tokens: TokenService, options: { allowCookie?: boolean; keys?: ApiKeysService } = {}) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    let token: string | null = null;
    if (header?.startsWith('Bearer ')) token = header.slice(7).trim();
    else if (options.allowCookie && req.method === 'GET') token = cookieToken(req);
    const apiKey = req.get('x-api-key')?.trim() ?? (token && looksLikeApiKey(token) ? token : null);
    if (apiKey) {
      if (!options.keys) return next(new AppError(401, ErrorCode.Unauthorized, 'API keys are not accepted here; sign in'));
      options.keys.authenticate(apiKey).then((claims) => {
        req.user = claims;
        next();
      }, next);
      return;
    }
    if (!token) {
      next(new AppError(401, ErrorCode.Unauthorized, 'sign in first: send Authorization: Bearer <access_token>, or X-API-Key: <key>'));
      return;
    }
    // A session token is checked against its account's token version: a password change ends it.
    tokens.authenticate(token).then((claims) => {
      req.user = claims;
      next();
    }, next);
  };
}

/**
 * Operators only: accounts granted with `npm run operator -- grant EMAIL`, looked up at each
 * request (a revoked operator loses access at once). Before, an address listed in ADMIN_EMAILS
 * made whoever signed up with it first an operator.
 */
export function requireOperator(users: { isOperator(userId: string): Promise<boolean> }) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const user = req.user;
    if (!user) return next(new AppError(401, ErrorCode.Unauthorized, 'sign in first'));
    users.isOperator(user.sub).then(
      (operator) => next(operator ? undefined : new AppError(403, ErrorCode.Forbidden, 'this page is for operators only')),
      (error: unknown) => next(error),
    );
  };
}

export function currentUser(req: Request): TokenClaims {
  if (!req.user) throw new AppError(401, ErrorCode.Unauthorized, 'sign in first');
  return req.user;
}
