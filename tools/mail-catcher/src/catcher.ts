import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail as it arrived: who it was for, its words, and the first link of ours it carries. */
export interface CaughtMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** The X-Masterpost-Mail header: which template made it. */
  kind: string;
  link: string | null;
  receivedAt: Date;
}

export interface MailCatcher {
  smtpUrl: string;
  /** The page listing the mails (when started with `httpPort`). */
  pageUrl: string | null;
  mails: CaughtMail[];
  /** The first mail (already caught or still to come) that matches; throws after `timeoutMs`. */
  waitFor(match: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  close(): Promise<void>;
}

const LINK = /https?:\/\/[^\s"<>]+\?token=[A-Za-z0-9_-]+/;

/**
 * A local SMTP server that keeps every mail it is sent: the development stack's outbox (with a
 * page to read them) and the tests' (waitFor). It speaks real SMTP, so the processor sends
 * through nodemailer exactly as it would to a provider.
 */
export async function startMailCatcher(options: { smtpPort?: number; httpPort?: number } = {}): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const text = parsed.text ?? '';
          mails.push({
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            subject: parsed.subject ?? '',
            text,
            html: typeof parsed.html === 'string' ? parsed.html : '',
            kind: String(parsed.headers.get('x-masterpost-mail') ?? ''),
            link: LINK.exec(text)?.[0] ?? null,
            receivedAt: new Date(),
          });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(options.smtpPort ?? 0, '127.0.0.1', resolve));
  const smtpPort = (server.server.address() as AddressInfo).port;

  let page: http.Server | null = null;
  if (options.httpPort !== undefined) {
    page = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(mails.length === 0 ? 'No mail yet.\n' : mails.map((mail) => `${mail.receivedAt.toISOString()}  to ${mail.to.join(', ')}\n${mail.subject}\n\n${mail.text}\n`).reverse().join('\n----------\n\n'));
    });
    await new Promise<void>((resolve) => page!.listen(options.httpPort, '127.0.0.1', resolve));
  }

  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    pageUrl: page ? `http://127.0.0.1:${(page.address() as AddressInfo).port}` : null,
    mails,
    waitFor(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = mails.find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching mail within ${timeoutMs} ms; caught: ${JSON.stringify(mails.map((mail) => ({ to: mail.to, subject: mail.subject })))}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (page) await new Promise<void>((resolve) => page!.close(() => resolve()));
    },
  };
}
