import { useState } from 'react';
import { messageOf, unwrap } from '../api/client';
import { useSession } from '../state/session';

/** POST /auth/verify-email/resend from a button, its answer read out where it was pressed. */
export function ResendVerification({ label = 'send the link again', id }: { label?: string; id?: string }) {
  const { api } = useSession();
  const [answer, setAnswer] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  const send = async () => {
    setBusy(true);
    setAnswer(null);
    try {
      const sent = unwrap(await api.POST('/auth/verify-email/resend'), 'sending the link again');
      setAnswer({ text: `Sent: ${sent.message}.`, error: false });
    } catch (error) {
      setAnswer({ text: messageOf(error), error: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="link-button" onClick={() => void send()} disabled={busy} {...(id ? { id } : {})}>
        {busy ? 'sending…' : label}
      </button>
      {/* Always in the page, so a screen reader hears what the button did. */}
      <span role="status" className={answer?.error ? 'error resend-answer' : 'resend-answer'}>
        {answer?.text ?? ''}
      </span>
    </>
  );
}

/** On every screen while the address is unproven: nothing can be spent until it is. */
export function VerifyBanner() {
  const { session, me } = useSession();
  if (!session || session.passwordRequired || !me || me.email_verified) return null;
  return (
    <section className="banner" id="verify-banner" aria-label="Confirm your email">
      <p>
        <strong>Confirm your email to get your free credits and start processing</strong> — we mailed a link to {me.email}. Nothing there?{' '}
        <ResendVerification id="resend-verification" />
      </p>
    </section>
  );
}

/** Where a seller would spend (the estimate, choosing the marketplace) while the address is unproven. */
export function VerifyFirst() {
  const { me } = useSession();
  return (
    <div className="warning" id="verify-first">
      <p>
        <strong>Confirm your email first.</strong> Pictures can be made once you have followed the link we mailed to {me?.email ?? 'your address'}; your free
        credits arrive then too. Your upload waits here.
      </p>
      <p>
        <ResendVerification label="Send the link again" />
      </p>
    </div>
  );
}
