import { usageError } from './exit-codes';

/**
 * The token of a link we mailed (address verification, a new address, a password reset), from
 * the whole link as copied out of the mail (`https://.../verify-email?token=...`) or the token
 * alone. The gateway's shape is checked here so a mangled paste is named before it is sent.
 */
const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;

export function tokenIn(argument: string): string {
  const text = argument.trim();
  let token = text;
  if (/^https?:\/\//i.test(text)) {
    let link: URL;
    try {
      link = new URL(text);
    } catch {
      throw usageError(`"${text}" is not a link: paste the whole link from the mail, or its token`);
    }
    token = link.searchParams.get('token') ?? '';
    if (!token) throw usageError(`the link has no ?token=: paste the whole link from the mail (${link.origin}${link.pathname}?token=...)`);
  }
  if (!TOKEN.test(token)) throw usageError('that is not the link or token from one of our mails: paste the whole link (it ends with ?token= and 20 or more letters, digits, - or _)');
  return token;
}
