/**
 * The words of every mail we send: plain text first (what every client shows), and the same in
 * simple HTML. Each template takes only what it needs; links are made by the caller from the
 * public address, so a template never guesses where the web app lives.
 */
export interface Mail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Paragraphs, and at most one button-like link; the HTML is the text's twin, nothing more. */
function compose(subject: string, paragraphs: string[], action?: { label: string; url: string }): Mail {
  const text = [...paragraphs, ...(action ? [`${action.label}: ${action.url}`] : []), '— Masterpost'].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5;color:#222">',
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    action ? `<p><a href="${escapeHtml(action.url)}" style="background:#1d4ed8;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p>` : '',
    action ? `<p style="font-size:12px;color:#555">Or open ${escapeHtml(action.url)}</p>` : '',
    '<p>— Masterpost</p></body></html>',
  ].join('');
  return { subject, text, html };
}

const hours = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : `${Math.round(seconds / 60)} minutes`);

export const mailTemplates = {
  verifyEmail: (input: { link: string; validSeconds: number }) =>
    compose(
      'Confirm your email for Masterpost',
      ['Welcome to Masterpost. Confirm this address to receive your free credits and start making pictures.', `The link works once, for ${hours(input.validSeconds)}. If you did not sign up, ignore this mail.`],
      { label: 'Confirm my email', url: input.link },
    ),
  passwordReset: (input: { link: string; validSeconds: number }) =>
    compose(
      'Reset your Masterpost password',
      [`Someone asked to reset the password of this Masterpost account. The link works once, for ${hours(input.validSeconds)}; choosing a new password signs out every other session.`, 'If it was not you, ignore this mail: your password stays as it is.'],
      { label: 'Choose a new password', url: input.link },
    ),
  confirmNewEmail: (input: { link: string; validSeconds: number }) =>
    compose(
      'Confirm your new email for Masterpost',
      [`Your Masterpost account is moving to this address once you confirm it. The link works once, for ${hours(input.validSeconds)}.`],
      { label: 'Confirm this address', url: input.link },
    ),
  emailChangeNotice: (input: { newEmail: string }) =>
    compose('Your Masterpost email is being changed', [
      `Someone signed in to your Masterpost account asked to move it to ${input.newEmail}. It moves once that address confirms.`,
      'If this was not you, change your password now (it signs out every other session) and write to us.',
    ]),
  picturesReady: (input: { delivered: number; failed: number; link: string }) =>
    compose(
      `Your ${input.delivered} picture${input.delivered === 1 ? ' is' : 's are'} ready`,
      [`${input.delivered} picture${input.delivered === 1 ? '' : 's'} made${input.failed ? `; ${input.failed} could not be made and ${input.failed === 1 ? 'was' : 'were'} not charged` : ''}.`, 'You turned these mails on in your account settings; turn them off there.'],
      { label: 'See and download them', url: input.link },
    ),
  lowBalance: (input: { available: number; link: string }) =>
    compose('Your Masterpost credits are running low', [`You have ${input.available} credit${input.available === 1 ? '' : 's'} left.`], { label: 'Buy credits', url: input.link }),
  receipt: (input: { pack: string; credits: number; amountCents: number; currency: string; reference: string }) =>
    compose(`Receipt: ${input.credits} Masterpost credits`, [
      `Thank you. You bought the ${input.pack} pack: ${input.credits} credits for ${(input.amountCents / 100).toFixed(2)} ${input.currency.toUpperCase()}.`,
      `Payment reference: ${input.reference}. The credits are on your account now and never expire.`,
    ]),
  endpointDisabled: (input: { url: string; reason: string; link: string }) =>
    compose('A Masterpost webhook endpoint was turned off', [`We stopped sending events to ${input.url}: ${input.reason}.`, 'Fix the endpoint, then turn it on again in your developer settings; nothing sent meanwhile is lost: resend any delivery from its list.'], {
      label: 'Developer settings',
      url: input.link,
    }),
} satisfies Record<string, (input: never) => Mail>;

export type MailKind = keyof typeof mailTemplates;
