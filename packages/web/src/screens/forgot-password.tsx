import { useState, type FormEvent } from 'react';
import { apiClient, messageOf, unwrap } from '../api/client';
import { Link } from '../state/router';

/** POST /auth/password/forgot: the same answer whether or not the address has an account. */
export function ForgotPasswordScreen() {
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get('email') ?? '');
    setBusy(true);
    setError(null);
    setSent(null);
    try {
      unwrap(await apiClient(null).POST('/auth/password/forgot', { body: { email } }), 'asking for a link');
      setSent(email);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="narrow">
      <h1>Forgot your password?</h1>
      <p>Type the address you sign in with: we mail it a link to choose a new password.</p>
      <form onSubmit={(event) => void submit(event)}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required id="forgot-email" />
        </label>
        <button type="submit" className="primary" disabled={busy} id="forgot-send">
          {busy ? 'Sending…' : 'Mail me a link'}
        </button>
      </form>
      <div role="status" id="forgot-sent">
        {sent && (
          <p className="success">
            If an account has the address {sent}, a link is on its way (valid one hour). Nothing after a few minutes? Look in the spam folder, or ask again.
          </p>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p>
        Remembered it? <Link to="/signin">Sign in</Link>
      </p>
    </main>
  );
}
