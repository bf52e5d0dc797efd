import type { Pool } from '@masterpost/platform';

export interface OutboxMail {
  id: string;
  /** The address written with the mail, else the seller's current one (a notice of facts). */
  to_address: string | null;
  data: unknown;
  kind: string;
  subject: string | null;
  text_body: string | null;
  html_body: string | null;
  sent_at: Date | null;
}

/** The processor's side of mail_outbox (db/migrations/013_accounts.sql). */
export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  async find(mailId: string): Promise<OutboxMail | null> {
    const { rows } = await this.pool.query<OutboxMail>(
      `select m.id, coalesce(m.to_address, u.email) as to_address, m.data, m.kind, m.subject, m.text_body, m.html_body, m.sent_at
         from mail_outbox m left join users u on u.id = m.user_id and u.deleted_at is null
        where m.id = $1`,
      [mailId],
    );
    return rows[0] ?? null;
  }

  /** Sent: the words (and any link in them) are not kept past their use. */
  /** Done with: sent, or never to be (`failed` after every try, `unsendable`, `not_configured`). */
  async markSent(mailId: string, outcome: 'sent' | 'not_configured' | 'unsendable' | 'failed'): Promise<void> {
    await this.pool.query('update mail_outbox set sent_at = now(), outcome = $2, text_body = null, html_body = null where id = $1 and sent_at is null', [mailId, outcome]);
  }

  /**
   * Mails waiting longer than a queued one would (written where no queue is, billing; or whose
   * enqueue failed), each claimed for 10 minutes so mails that are already queued and retrying
   * do not keep newer ones from the sweep.
   */
  async unsentOlderThan(seconds: number, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `update mail_outbox set next_sweep_at = now() + interval '10 minutes'
        where id in (select id from mail_outbox
                      where sent_at is null and created_at < now() - make_interval(secs => $1) and (next_sweep_at is null or next_sweep_at < now())
                      order by created_at limit $2 for update skip locked)
        returning id`,
      [seconds, limit],
    );
    return rows.map((row) => row.id);
  }
}
