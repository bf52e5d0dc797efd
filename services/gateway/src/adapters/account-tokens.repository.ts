import { createHash, randomBytes } from 'node:crypto';
import { withTransaction, type Pool, type PoolClient } from '@masterpost/platform';

export type TokenPurpose = 'verify_email' | 'reset_password' | 'change_email';

export interface UsedToken {
  user_id: string;
  new_email: string | null;
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The links we mail: a token of 32 random bytes goes into the mail, its SHA-256 into the table
 * (db/migrations/013_accounts.sql). Following a link uses its token up in one statement, so two
 * clicks at once cannot both succeed.
 */
export class AccountTokensRepository {
  constructor(private readonly pool: Pool) {}

  /** Work that must hold together with a token (its mail, the change it allows), in one transaction. */
  transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }

  /** A new token for this purpose; earlier unused ones of the same purpose stop working. */
  async issue(db: PoolClient, userId: string, purpose: TokenPurpose, validSeconds: number, newEmail: string | null = null): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await db.query('update account_tokens set used_at = now() where user_id = $1 and purpose = $2 and used_at is null', [userId, purpose]);
    await db.query(
      `insert into account_tokens (user_id, purpose, token_sha256, new_email, expires_at)
       values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [userId, purpose, sha256(token), newEmail, validSeconds],
    );
    return token;
  }

  /** The token's seller, if the token would work now; nothing is used up. */
  async peek(purpose: TokenPurpose, token: string): Promise<UsedToken | null> {
    const { rows } = await this.pool.query<UsedToken>(
      'select user_id, new_email from account_tokens where token_sha256 = $1 and purpose = $2 and used_at is null and expires_at > now()',
      [sha256(token), purpose],
    );
    return rows[0] ?? null;
  }

  /**
   * Every link still out for the seller stops working: after a password reset or change, a link
   * asked for by whoever knew the old password (an email change to their address) must not.
   */
  async endAll(db: PoolClient, userId: string): Promise<void> {
    await db.query('update account_tokens set used_at = now() where user_id = $1 and used_at is null', [userId]);
  }

  /** The token's seller (and new address), once: null when unknown, used, expired or of another purpose. */
  async use(db: PoolClient, purpose: TokenPurpose, token: string): Promise<UsedToken | null> {
    const { rows } = await db.query<UsedToken>(
      `update account_tokens set used_at = now()
        where token_sha256 = $1 and purpose = $2 and used_at is null and expires_at > now()
        returning user_id, new_email`,
      [sha256(token), purpose],
    );
    return rows[0] ?? null;
  }
}
