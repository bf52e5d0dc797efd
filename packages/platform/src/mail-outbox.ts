import { randomUUID } from 'node:crypto';
import type { Mail, MailKind } from './mail-templates';

/** Anything that runs a query: a pool, or a client inside a transaction. */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
}

/**
 * Writes a mail into the outbox (Postgres): the caller's transaction decides whether it exists,
 * so a link is mailed only if the token it carries was stored. The processor's mail worker sends
 * it: queued at once by services with a queue (`bullJobId.mail`), else found by the sweep.
 */
export async function writeMail(db: Queryable, mail: { userId: string | null; to: string; kind: MailKind; content: Mail; dedupeKey?: string }): Promise<string | null> {
  const id = randomUUID();
  const written = await db.query(
    `insert into mail_outbox (id, user_id, to_address, kind, subject, text_body, html_body, dedupe_key)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (dedupe_key) do nothing`,
    [id, mail.userId, mail.to, mail.kind, mail.content.subject, mail.content.text, mail.content.html, mail.dedupeKey ?? null],
  );
  // A notice with this dedupe key was written before (a retried job): it is not mailed again.
  return (written.rowCount ?? 0) > 0 ? id : null;
}
