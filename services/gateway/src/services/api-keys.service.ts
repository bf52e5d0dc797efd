import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError, ErrorCode, isUuid, type ApiKeyItem, type ApiKeyList, type CreatedApiKey } from '@masterpost/contracts';
import type { ApiKeysRepository } from '../adapters/api-keys.repository';
import type { TokenClaims } from './auth.service';

/** Every key starts so: a client (and a secret scanner) can tell a key from a session token. */
export const API_KEY_PREFIX = 'mp_';
const KEYS_PER_SELLER = 50;

/** Keys are 256 random bits: a fast hash is enough to store them (nobody can guess one to match). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

/**
 * A seller's API keys: made (shown once), named, listed with their prefix and last use, revoked.
 * A key stands for its seller on every seller route, with the same ownership checks and rate
 * limits as a session.
 */
export class ApiKeysService {
  constructor(private readonly keys: ApiKeysRepository) {}

  async create(userId: string, name: string): Promise<CreatedApiKey> {
    const live = (await this.keys.list(userId)).filter((key) => !key.revoked_at);
    if (live.length >= KEYS_PER_SELLER) {
      throw new AppError(400, ErrorCode.InvalidInput, `a seller may hold ${KEYS_PER_SELLER} live keys; revoke one first`, { field: 'name' });
    }
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const created = await this.keys.create({ id: randomUUID(), userId, name, prefix: key.slice(0, 10), hash: hashApiKey(key) });
    return { ...created, key };
  }

  async list(userId: string): Promise<ApiKeyList> {
    return { keys: await this.keys.list(userId) };
  }

  async revoke(userId: string, keyId: string): Promise<ApiKeyItem> {
    const revoked = isUuid(keyId) ? await this.keys.revoke(keyId, userId) : null;
    if (!revoked) throw new AppError(404, ErrorCode.NotFound, 'no such key');
    return revoked;
  }

  /** The seller a key stands for; 401 for a key that is unknown or revoked. */
  async authenticate(key: string): Promise<TokenClaims> {
    const owner = await this.keys.useActive(hashApiKey(key));
    if (!owner) throw new AppError(401, ErrorCode.Unauthorized, 'the API key is unknown or revoked');
    return { sub: owner.userId, email: owner.email };
  }
}
