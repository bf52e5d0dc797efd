import type { ApiKeyItem } from '@masterpost/contracts';
import type { Pool } from '@masterpost/platform';

interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const item = (row: ApiKeyRow): ApiKeyItem => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  created_at: row.created_at.toISOString(),
  last_used_at: row.last_used_at?.toISOString() ?? null,
  revoked_at: row.revoked_at?.toISOString() ?? null,
});

export class ApiKeysRepository {
  constructor(private readonly pool: Pool) {}

  async create(key: { id: string; userId: string; name: string; prefix: string; hash: string }): Promise<ApiKeyItem> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      `insert into api_keys (id, user_id, name, prefix, key_hash) values ($1, $2, $3, $4, $5)
       returning id, name, prefix, created_at, last_used_at, revoked_at`,
      [key.id, key.userId, key.name, key.prefix, key.hash],
    );
    return item(rows[0]!);
  }

  async list(userId: string): Promise<ApiKeyItem[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      'select id, name, prefix, created_at, last_used_at, revoked_at from api_keys where user_id = $1 order by created_at desc',
      [userId],
    );
    return rows.map(item);
  }

  /** The key as revoked now (or when it was revoked before), or null if it is not this seller's. */
  async revoke(id: string, userId: string): Promise<ApiKeyItem | null> {
    const { rows } = await this.pool.query<ApiKeyRow>(
      `update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 and user_id = $2
       returning id, name, prefix, created_at, last_used_at, revoked_at`,
      [id, userId],
    );
    return rows[0] ? item(rows[0]) : null;
  }

  /**
   * The owner of a live key, and records its use: at most once a minute a key, so a busy
   * integration does not write a row per request.
   */
  async useActive(hash: string): Promise<{ userId: string; email: string } | null> {
    const { rows } = await this.pool.query<{ id: string; user_id: string; email: string; last_used_at: Date | null }>(
      `select k.id, k.user_id, u.email, k.last_used_at from api_keys k join users u on u.id = k.user_id
        where k.key_hash = $1 and k.revoked_at is null`,
      [hash],
    );
    const row = rows[0];
    if (!row) return null;
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
      await this.pool.query(`update api_keys set last_used_at = now() where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`, [row.id]);
    }
    return { userId: row.user_id, email: row.email };
  }
}
