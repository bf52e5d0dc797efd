import type { Pool } from '@masterpost/platform';
import { withTransaction } from '@masterpost/platform';

export interface ExportedJob {
  id: string;
  status: string;
  pipeline: string | null;
  settings: unknown;
  created_at: Date;
  finished_at: Date | null;
  files_deleted_at: Date | null;
  images: Array<{
    id: string;
    filename: string;
    status: string;
    upload_key: string;
    result_key: string | null;
    output_name: string | null;
    error_code: string | null;
    error_message: string | null;
    compliance: unknown;
    credits_charged: number;
  }>;
}

/**
 * What a seller's data is, for taking it away (GDPR's access right) and for deleting it
 * (db/migrations/013_accounts.sql: the row stays as a tombstone, the ledger anonymised).
 */
export class AccountDataRepository {
  constructor(private readonly pool: Pool) {}

  async account(userId: string) {
    const { rows } = await this.pool.query<{ id: string; email: string; created_at: Date; email_verified_at: Date | null; notify_pictures_ready: boolean }>(
      'select id, email, created_at, email_verified_at, notify_pictures_ready from users where id = $1 and deleted_at is null',
      [userId],
    );
    return rows[0] ?? null;
  }

  async jobs(userId: string): Promise<ExportedJob[]> {
    const { rows } = await this.pool.query<ExportedJob>(
      `select j.id, j.status, j.pipeline, j.settings, j.created_at, j.finished_at, j.files_deleted_at,
              coalesce(json_agg(json_build_object(
                'id', i.id, 'filename', i.filename, 'status', i.status, 'upload_key', i.upload_key, 'result_key', i.result_key,
                'output_name', i.output_name, 'error_code', i.error_code, 'error_message', i.error_message,
                'compliance', i.compliance, 'credits_charged', i.credits_charged) order by i.position) filter (where i.id is not null), '[]') as images
         from jobs j left join images i on i.job_id = j.id
        where j.user_id = $1 group by j.id order by j.created_at`,
      [userId],
    );
    return rows;
  }

  /** Every movement, money columns included, oldest first: the books as the seller's. */
  async ledger(userId: string) {
    const { rows } = await this.pool.query(
      `select id::text, kind, delta::int, reserved_delta::int, debt_delta::int, reference, description, created_at
         from credit_movements where user_id = $1 order by id`,
      [userId],
    );
    return rows;
  }

  async apiKeysAndWebhooks(userId: string) {
    const [keys, endpoints] = await Promise.all([
      this.pool.query('select id, name, prefix, created_at, last_used_at, revoked_at from api_keys where user_id = $1 order by created_at', [userId]),
      this.pool.query('select id, url, events, description, created_at, disabled_at from webhook_endpoints where user_id = $1 order by created_at', [userId]),
    ]);
    return { api_keys: keys.rows, webhook_endpoints: endpoints.rows };
  }

  async runningJobs(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>("select count(*)::int as n from jobs where user_id = $1 and status in ('queued', 'processing')", [userId]);
    return rows[0]?.n ?? 0;
  }

  async jobIds(userId: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>('select id from jobs where user_id = $1', [userId]);
    return rows.map((row) => row.id);
  }

  /**
   * Everything of the seller goes but the ledger, which keeps its movements for the books with
   * the address taken out of them; the account row becomes a tombstone whose address is its id,
   * so the real address can sign up again. Its sessions end (token version), its keys and
   * webhooks go. Answers how many jobs went.
   */
  async erase(userId: string, email: string): Promise<number> {
    return withTransaction(this.pool, async (db) => {
      const jobs = await db.query('delete from jobs where user_id = $1', [userId]);
      await db.query('delete from api_keys where user_id = $1', [userId]);
      await db.query('delete from webhook_endpoints where user_id = $1', [userId]);
      await db.query('delete from notices where user_id = $1', [userId]);
      await db.query('delete from account_tokens where user_id = $1', [userId]);
      // Every address the account had: the current one and those before an email change.
      const { rows: past } = await db.query<{ email: string }>('select email from account_past_emails where user_id = $1', [userId]);
      const addresses = [email.toLowerCase(), ...past.map((row) => row.email)];
      await db.query('delete from mail_outbox where user_id = $1 or lower(to_address) = any($2::text[])', [userId, addresses]);
      await db.query(
        `update legacy_sellers set email = email_fingerprint(email),
                source_emails = array(select email_fingerprint(e) from unnest(source_emails) e)
          where user_id = $1`,
        [userId],
      );
      for (const address of addresses) await db.query('select ledger_forget_email($1, $2)', [userId, address]);
      await db.query('delete from account_past_emails where user_id = $1', [userId]);
      await db.query(
        `update users set email = 'deleted-' || id || '@deleted.invalid', password_hash = null, access_code_hash = null,
                email_verified_at = null, notify_pictures_ready = false, is_operator = false,
                token_version = token_version + 1, deleted_at = now()
          where id = $1`,
        [userId],
      );
      return jobs.rowCount ?? 0;
    });
  }
}
