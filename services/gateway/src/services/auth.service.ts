import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { AppError, ErrorCode } from '@masterpost/contracts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/**
 * Passwords with scrypt (N=2^15, r=8, p=1), tokens as HS256 JWTs with the algorithm pinned and
 * issuer, audience and expiry required on the way back in.
 */
type ScryptCost = { N: number; r: number; p: number; keylen: number };
const SCRYPT: ScryptCost = { N: 32768, r: 8, p: 1, keylen: 32 };
/**
 * Old Masterpost access codes (`MP-XXXX-XXXX`, issue 19) are hashed at a lower cost than
 * passwords: the import hashes every moved seller's code at once (100,000 at the password cost
 * would take hours on two cores), and a code is used once, then replaced by a password. It is
 * still scrypt, 4 MiB a guess, over a code of ~41 random bits. A sign-in with a code is always
 * checked at this cost, a known email or not (its own decoy), so timing tells nothing.
 */
const ACCESS_CODE_SCRYPT: ScryptCost = { N: 4096, r: 8, p: 1, keylen: 32 };

async function hashSecret(secret: string, cost: ScryptCost): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, cost.keylen, { N: cost.N, r: cost.r, p: cost.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function hashPassword(password: string): Promise<string> {
  return hashSecret(password, SCRYPT);
}

/** Codes are compared as the old app printed them: upper case, no surrounding spaces. */
export function normalizeAccessCode(code: string): string {
  return code.trim().toUpperCase();
}

export function hashAccessCode(code: string): Promise<string> {
  return hashSecret(normalizeAccessCode(code), ACCESS_CODE_SCRYPT);
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

let decoyCodeHash: Promise<string> | null = null;
export function decoyAccessCodeHash(): Promise<string> {
  decoyCodeHash ??= hashAccessCode(randomBytes(16).toString('hex'));
  return decoyCodeHash;
}

export const TOKEN_ISSUER = 'masterpost';
export const TOKEN_AUDIENCE = 'masterpost-api';

export interface TokenClaims {
  sub: string;
  email: string;
  /** The account's token version when the token was issued (absent: issued before versions, 0). */
  ver?: number;
}

/** Where the current token version of an account is read: null when the account is gone. */
export interface TokenVersions {
  tokenVersion(userId: string): Promise<number | null>;
}

export class TokenService {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    /** Without it tokens are checked by signature and expiry only (tests of the app alone). */
    private readonly versions?: TokenVersions,
  ) {}

  issue(claims: TokenClaims): string {
    return jwt.sign({ email: claims.email, ver: claims.ver ?? 0 }, this.secret, {
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
    const ver = typeof payload.ver === 'number' ? payload.ver : 0;
    return { sub: payload.sub, email: payload.email, ver };
  }

  /**
   * A session token that is still current: signed, unexpired, and issued under the account's
   * current token version (a password change ends every older session at once, everywhere).
   */
  async authenticate(token: string): Promise<TokenClaims> {
    const claims = this.verify(token);
    if (!this.versions) return claims;
    const current = await this.versions.tokenVersion(claims.sub);
    if (current === null || current !== claims.ver) {
      throw new AppError(401, ErrorCode.Unauthorized, 'this session has ended (the password was changed); sign in again');
    }
    return claims;
  }
}
