import { useState, type FormEvent } from 'react';
import { apiClient, messageOf, unwrap } from '../api/client';
import { Link, navigate } from '../state/router';
import { useSession } from '../state/session';

/** Sign in with a password, or once with an old Masterpost access code (then a password is chosen). */
export function SignInScreen() {
  const { signIn } = useSession();
  const [withCode, setWithCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '');
    const secret = String(form.get('secret') ?? '');
    setBusy(true);
    setError(null);
    try {
      const body = withCode ? { email, access_code: secret } : { email, password: secret };
      const session = unwrap(await apiClient(null).POST('/auth/login', { body }), 'signing in');
      signIn(session);
      navigate(session.password_required ? '/choose-password' : '/', { replace: true });
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="narrow">
      <h1>Sign in</h1>
      <form onSubmit={(event) => void submit(event)} aria-describedby={error ? 'signin-error' : undefined}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required id="email" />
        </label>
        {/* Before the field it changes, so the keyboard reaches it first. */}
        <label className="inline">
          <input type="checkbox" checked={withCode} onChange={(event) => setWithCode(event.target.checked)} /> I have an access code from the old Masterpost
        </label>
        <label>
          {withCode ? 'Access code from the old Masterpost' : 'Password'}
          <input name="secret" type={withCode ? 'text' : 'password'} autoComplete={withCode ? 'one-time-code' : 'current-password'} required id="password" />
        </label>
        {withCode && <p className="muted">It works once: you choose a password right after.</p>}
        {error && (
          <p className="error" role="alert" id="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {!withCode && (
        <p>
          <Link to="/forgot-password" id="forgot-link">
            Forgot your password?
          </Link>
        </p>
      )}
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </main>
  );
}
