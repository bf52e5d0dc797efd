import { useEffect } from 'react';
import { apiClient, ApiError, messageOf, unwrap } from '../api/client';
import { Link, useLocation } from '../state/router';
import { useSession } from '../state/session';
import { useMailedLink } from '../state/use-mailed-link';

/** /confirm-email?token=...: the link mailed to a new address; following it moves the account there. */
export function ConfirmEmailScreen() {
  const token = useLocation().query.get('token') ?? '';
  const { session, refreshMe } = useSession();
  const outcome = useMailedLink('confirm', token, async (value) => unwrap(await apiClient(null).POST('/auth/email/confirm', { body: { token: value } }), 'confirming the new address'));

  const done = outcome.status === 'done';
  useEffect(() => {
    if (done && session) refreshMe().catch(() => undefined);
  }, [done, session, refreshMe]);

  const refusal = outcome.status === 'failed' && outcome.error instanceof ApiError ? outcome.error : null;
  return (
    <main className="narrow">
      <h1>Your new address</h1>
      <div role="status" id="confirm-outcome" data-outcome={outcome.status}>
        {outcome.status === 'working' && <p className="muted">Confirming your new address…</p>}
        {outcome.status === 'done' && (
          <p className="success">
            Done: you sign in with <strong id="confirmed-email">{outcome.data.email}</strong> from now on, and our mails go there.
          </p>
        )}
        {outcome.status === 'failed' && (
          <p className="error">
            {refusal?.code === 'invalid_token'
              ? 'This link is unknown, used or expired: the address has not changed. Ask for the change again from your account screen.'
              : `The address has not changed: ${messageOf(outcome.error)}`}
          </p>
        )}
      </div>
      {outcome.status !== 'working' && (
        <p>{session ? <Link to="/account">Back to your account</Link> : <Link to="/signin">Sign in</Link>}</p>
      )}
    </main>
  );
}
