import { useState, type FormEvent } from 'react';
import { apiClient, messageOf, unwrap } from '../api/client';
import { Link, navigate } from '../state/router';
import { useSession } from '../state/session';

export function SignUpScreen() {
  const { signIn } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const body = { email: String(form.get('email') ?? ''), password: String(form.get('password') ?? '') };
      signIn(unwrap(await apiClient(null).POST('/auth/register', { body }), 'creating the account'));
      navigate('/', { replace: true });
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="narrow">
      <h1>Create an account</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required id="email" />
        </label>
        <label>
          Password (at least 8 characters)
          <input name="password" type="password" autoComplete="new-password" minLength={8} required id="password" />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p>
        Already have one? <Link to="/signin">Sign in</Link>
      </p>
    </main>
  );
}
