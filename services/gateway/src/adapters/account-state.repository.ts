import type { Pool, PoolClient } from '@masterpost/platform';

export interface AccountState {
  email: string;
  email_verified: boolean;
  notify_pictures_ready: boolean;
  has_password: boolean;
  pending_email: string | null;
}

/**
 * An account's lifecycle columns (db/migrations/013_accounts.sql): whether its address is proven,
 * what it wants mailed, a new address waiting for its link, and the tombstone of a deleted one.
 * A seller moved from the old Masterpost counts as verified: the old app mailed their access
 * code to that address.
 */
const VERIFIED = `(u.email_verified_at is not null or exists (select 1 from legacy_sellers l where l.user_id = u.id))`;

export class AccountStateRepository {
  constructor(private readonly pool: Pool) {}

  async state(userId: string): Promise<AccountState | null> {
    const { rows } = await this.pool.query<AccountState>(
      `select u.email, ${VERIFIED} as email_verified, u.notify_pictures_ready, u.password_hash is not null as has_password,
              (select t.new_email from account_tokens t
                where t.user_id = u.id and t.purpose = 'change_email' and t.used_at is null and t.expires_at > now()
                order by t.created_at desc limit 1) as pending_email
         from users u where u.id = $1 and u.deleted_at is null`,
      [userId],
    );
    return rows[0] ?? null;
  }

  async isVerified(userId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ verified: boolean }>(`select ${VERIFIED} as verified from users u where u.id = $1`, [userId]);
    return rows[0]?.verified ?? false;
  }

  /** True the first time only: the signup credits follow a first verification, never a second. */
  async markVerified(userId: string, db: Pool | PoolClient = this.pool): Promise<boolean> {
    const result = await db.query('update users set email_verified_at = now() where id = $1 and email_verified_at is null and deleted_at is null', [userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async setNotifyPicturesReady(userId: string, on: boolean): Promise<void> {
    await this.pool.query('update users set notify_pictures_ready = $2 where id = $1', [userId, on]);
  }

  /** The seller's current address and whether it has an account; for mails sent to it. */
  async emailOf(userId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ email: string }>('select email from users where id = $1 and deleted_at is null', [userId]);
    return rows[0]?.email ?? null;
  }

  /** Null when another account took the address meanwhile (the unique index decides). */
  async changeEmail(db: PoolClient, userId: string, newEmail: string): Promise<{ old: string } | null> {
    const { rows: before } = await db.query<{ email: string }>('select email from users where id = $1 and deleted_at is null for update', [userId]);
    const taken = await db.query('select 1 from users where lower(email) = lower($1) and id <> $2', [newEmail, userId]);
    if (!before[0] || (taken.rowCount ?? 0) > 0) return null;
    // A proven address: the link was followed from its own mailbox. The old address is
    // remembered so deleting the account forgets it too.
    await db.query('update users set email = $2, email_verified_at = now() where id = $1', [userId, newEmail]);
    await db.query('insert into account_past_emails (user_id, email) values ($1, $2) on conflict do nothing', [userId, before[0].email.toLowerCase()]);
    return { old: before[0].email };
  }

  /**
   * A proven address after it was not: keys and webhooks made meanwhile were made by someone who
   * never proved they own it (whoever signed up with another's address), so they go.
   */
  async dropUnprovenAccess(db: PoolClient, userId: string): Promise<void> {
    await db.query('update api_keys set revoked_at = now() where user_id = $1 and revoked_at is null', [userId]);
    await db.query('delete from webhook_endpoints where user_id = $1', [userId]);
  }

  async emailTaken(email: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('select 1 from users where lower(email) = lower($1)', [email]);
    return (rowCount ?? 0) > 0;
  }
}
