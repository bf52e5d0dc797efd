import { bullJobId, jobCatalog, JobName } from '@masterpost/contracts';
import { writeMail, type Logger, type Mail, type MailKind, type Pool } from '@masterpost/platform';
import type { Queue } from 'bullmq';

/**
 * The processor's notices to sellers (pictures ready, credits low, an endpoint turned off): into
 * the outbox, then queued. A failed enqueue loses nothing: the sweep finds the mail.
 */
export class Mailer {
  constructor(private readonly deps: { pool: Pool; mailQueue: Queue; logger: Logger }) {}

  async send(mail: { userId: string; to: string; kind: MailKind; content: Mail; dedupeKey: string }): Promise<void> {
    const mailId = await writeMail(this.deps.pool, mail);
    if (!mailId) return;
    const { options } = jobCatalog[JobName.MailSend];
    await this.deps.mailQueue.add(JobName.MailSend, { mailId }, { ...options, jobId: bullJobId.mail(mailId) }).catch((error: Error) => {
      this.deps.logger.warn({ mailId, err: error.message }, 'could not queue a mail; the outbox sweep will');
    });
  }
}
