import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { AppError, ErrorCode } from '@masterpost/contracts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/**
 * Passwords with scrypt (N=2^15, r=8, p=1), tokens as HS256 JWTs with the algorithm pinned and
 * issuer, audience and expiry required on the way back in.
 */
const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(actual, expected);
}

/** Hashed once at start: an unknown email is checked against it so both paths cost the same. */
let decoyHash: Promise<string> | null = null;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return decoyHash;
}

export const TOKEN_ISSUER = 'masterpost';
export const TOKEN_AUDIENCE = 'masterpost-api';

export interface TokenClaims {
  sub: string;
  email: string;
}

export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
  ) {}

  issue(claims: TokenClaims): string {
    return jwt.sign({ email: claims.email }, this.secret, {
      algorithm: 'HS256',
      subject: claims.sub,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      expiresIn: this.ttlSeconds,
    });
  }

  verify(token: string): TokenClaims {
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.secret, { algorithms: ['HS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE });
    } catch {
      throw new AppError(401, ErrorCode.Unauthorized, 'the access token is invalid or expired');
    }
    if (typeof payload === 'string' || typeof payload.exp !== 'number' || typeof payload.sub !== 'string' || typeof payload.email !== 'string') {
      throw new AppError(401, ErrorCode.Unauthorized, 'the access token is invalid or expired');
    }
    return { sub: payload.sub, email: payload.email };
  }
}
