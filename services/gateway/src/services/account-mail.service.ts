import { mailTemplates, writeMail, type Logger, type Mail, type MailKind, type PoolClient } from '@masterpost/platform';
import type { AccountTokensRepository } from '../adapters/account-tokens.repository';

/** Where the links in mails lead (the web app's pages), and how long each works. */
export interface MailLinkSettings {
  publicUrl: string;
  verifySeconds: number;
  resetSeconds: number;
  emailChangeSeconds: number;
}

interface OutgoingMail {
  userId: string | null;
  to: string;
  kind: MailKind;
  content: Mail;
}

/**
 * The mails an account's life sends (verification, password reset, email change). The token and
 * its mail are written in one transaction, so a link is never mailed without its token nor a
 * token left without its mail; the mail is queued after the commit. Sending is the processor's
 * mail worker: never a request handler.
 */
export class AccountMailService {
  constructor(
    private readonly deps: {
      tokens: AccountTokensRepository;
      queue: { enqueueMail(mailId: string): Promise<void> };
      links: MailLinkSettings;
      logger: Logger;
    },
  ) {}

  async sendVerification(userId: string, email: string): Promise<void> {
    const { links } = this.deps;
    await this.mail(async (db) => {
      const token = await this.deps.tokens.issue(db, userId, 'verify_email', links.verifySeconds);
      return [{ userId, to: email, kind: 'verifyEmail', content: mailTemplates.verifyEmail({ link: this.link('verify-email', token), validSeconds: links.verifySeconds }) }];
    });
  }

  async sendPasswordReset(userId: string, email: string): Promise<void> {
    const { links } = this.deps;
    await this.mail(async (db) => {
      const token = await this.deps.tokens.issue(db, userId, 'reset_password', links.resetSeconds);
      return [{ userId, to: email, kind: 'passwordReset', content: mailTemplates.passwordReset({ link: this.link('reset-password', token), validSeconds: links.resetSeconds }) }];
    });
  }

  /** The link goes to the new address; the old one is told, in case it was not its owner asking. */
  async sendEmailChange(userId: string, oldEmail: string, newEmail: string): Promise<void> {
    const { links } = this.deps;
    await this.mail(async (db) => {
      const token = await this.deps.tokens.issue(db, userId, 'change_email', links.emailChangeSeconds, newEmail);
      return [
        { userId, to: newEmail, kind: 'confirmNewEmail', content: mailTemplates.confirmNewEmail({ link: this.link('confirm-email', token), validSeconds: links.emailChangeSeconds }) },
        { userId, to: oldEmail, kind: 'emailChangeNotice', content: mailTemplates.emailChangeNotice({ newEmail }) },
      ];
    });
  }

  private link(page: string, token: string): string {
    return `${this.deps.links.publicUrl.replace(/\/$/, '')}/${page}?token=${token}`;
  }

  private async mail(compose: (db: PoolClient) => Promise<OutgoingMail[]>): Promise<void> {
    const ids = await this.deps.tokens.transaction(async (db) => {
      const mails = await compose(db);
      const written: string[] = [];
      for (const mail of mails) {
        const id = await writeMail(db, mail);
        if (id) written.push(id);
      }
      return written;
    });
    for (const mailId of ids) {
      // Stored is as good as sent: the processor's outbox sweep queues what is not queued here.
      await this.deps.queue.enqueueMail(mailId).catch((error: Error) => this.deps.logger.warn({ mailId, err: error.message }, 'could not queue a mail; the outbox sweep will'));
    }
  }
}
