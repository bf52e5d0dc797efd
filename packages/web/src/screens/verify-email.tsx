import { useEffect } from 'react';
import { apiClient, ApiError, messageOf, unwrap } from '../api/client';
import { credits } from '../components/format';
import { ResendVerification } from '../components/verify-notice';
import { Link, useLocation } from '../state/router';
import { useSession } from '../state/session';
import { useMailedLink } from '../state/use-mailed-link';

/** /verify-email?token=...: the link of the verification mail, followed as the page opens. */
export function VerifyEmailScreen() {
  const token = useLocation().query.get('token') ?? '';
  const { session, me, refreshMe } = useSession();
  const outcome = useMailedLink('verify', token, async (value) => unwrap(await apiClient(null).POST('/auth/verify-email', { body: { token: value } }), 'confirming the address'));

  // The header's balance and the banner follow the signed-in seller's new state.
  const done = outcome.status === 'done';
  useEffect(() => {
    if (done && session) refreshMe().catch(() => undefined);
  }, [done, session, refreshMe]);

  const unknownLink = outcome.status === 'failed' && outcome.error instanceof ApiError && outcome.error.status === 400;
  return (
    <main className="narrow">
      <h1>Confirm your email</h1>
      <div role="status" id="verify-outcome" data-outcome={outcome.status === 'failed' ? (unknownLink ? 'unknown' : 'failed') : outcome.status}>
        {outcome.status === 'working' && <p className="muted">Confirming your address…</p>}
        {outcome.status === 'done' && (
          <>
            <p className="success">
              <strong>{outcome.data.email}</strong> is confirmed. Thank you!
            </p>
            <p>
              Your balance: <strong id="verified-balance">{credits(outcome.data.credits.available)}</strong>
              {outcome.data.credits.available > 0 ? ', your free credits included. You can make pictures now.' : '.'}
            </p>
          </>
        )}
        {outcome.status === 'failed' && (
          <p className="error">{unknownLink ? 'This link is unknown, used or expired.' : `The address could not be confirmed: ${messageOf(outcome.error)}`}</p>
        )}
      </div>
      {outcome.status === 'done' && (
        <p className="actions">
          {session ? (
            <Link to="/" className="button primary">
              Upload photos
            </Link>
          ) : (
            <Link to="/signin" className="button primary">
              Sign in
            </Link>
          )}
        </p>
      )}
      {outcome.status === 'failed' &&
        (session ? (
          me?.email_verified ? (
            <p>
              Your address is confirmed already: <Link to="/">go on to your pictures</Link>.
            </p>
          ) : (
            <p>
              A new link makes the old ones stop working: use the latest mail. <ResendVerification label="Send me a new link" id="resend-verification-page" />
            </p>
          )
        ) : (
          <p>
            <Link to="/signin">Sign in</Link> to ask for a new link.
          </p>
        ))}
    </main>
  );
}
