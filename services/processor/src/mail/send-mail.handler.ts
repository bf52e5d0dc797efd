import type { JobName, JobPayload, JobResult } from '@masterpost/contracts';
import type { Logger } from '@masterpost/platform';
import type { Transporter } from 'nodemailer';
import { noticeWords } from './notice-words';
import type { OutboxRepository } from './outbox.repository';

/**
 * Sends one mail of the outbox over SMTP. A mail already sent (a retried job, the sweep and the
 * gateway both queuing it) is not sent again; an SMTP error throws, and BullMQ retries with
 * backoff (the catalog's MailSend options). Without an SMTP server configured the mail is logged
 * by kind and address only, and marked so the sweep leaves it.
 */
export class SendMailHandler {
  constructor(private readonly deps: { outbox: OutboxRepository; transport: Transporter | null; from: string; logger: Logger }) {}

  /** `finalAttempt`: BullMQ will not try again, so a failure now gives the mail up (recorded, not re-swept). */
  async handle(payload: JobPayload<typeof JobName.MailSend>, finalAttempt = false): Promise<JobResult<typeof JobName.MailSend>> {
    const mail = await this.deps.outbox.find(payload.mailId);
    if (!mail || mail.sent_at) return { sent: false };
    const words = mail.subject !== null && mail.text_body !== null ? { subject: mail.subject, text: mail.text_body, html: mail.html_body ?? '' } : noticeWords(mail.kind, mail.data);
    if (!words || !mail.to_address) {
      // No address (the account was deleted meanwhile) or facts no template reads: never sendable.
      this.deps.logger.error({ mailId: mail.id, kind: mail.kind, addressed: Boolean(mail.to_address) }, 'a mail of the outbox cannot be sent; it is set aside');
      await this.deps.outbox.markSent(mail.id, 'unsendable');
      return { sent: false };
    }
    if (!this.deps.transport) {
      this.deps.logger.warn({ mailId: mail.id, kind: mail.kind }, 'SMTP_URL is not set: the mail is not sent');
      await this.deps.outbox.markSent(mail.id, 'not_configured');
      return { sent: false };
    }
    await this.send(this.deps.transport, mail.id, mail.kind, finalAttempt, {
      from: this.deps.from,
      to: mail.to_address,
      subject: words.subject,
      text: words.text,
      ...(words.html ? { html: words.html } : {}),
      headers: { 'X-Masterpost-Mail': mail.kind },
    });
    await this.deps.outbox.markSent(mail.id, 'sent');
    this.deps.logger.info({ mailId: mail.id, kind: mail.kind }, 'mail sent');
    return { sent: true };
  }

  private async send(transport: Transporter, mailId: string, kind: string, finalAttempt: boolean, message: Parameters<Transporter['sendMail']>[0]): Promise<void> {
    try {
      await transport.sendMail(message);
    } catch (error) {
      if (finalAttempt) {
        this.deps.logger.error({ mailId, kind, err: (error as Error).message }, 'a mail could not be sent after every try; it is given up');
        await this.deps.outbox.markSent(mailId, 'failed');
      }
      throw error;
    }
  }

  close(): void {
    this.deps.transport?.close();
  }
}
