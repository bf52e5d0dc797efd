import { useState, type FormEvent } from 'react';
import { messageOf, unwrap } from '../api/client';
import { useSession } from '../state/session';

/**
 * POST /auth/password: a moved seller's first password (no current one), or a change; with a
 * reset link's token, POST /auth/password/reset. The answer is a new session (other sessions
 * end), stored at once.
 */
export function PasswordForm({ askCurrent = false, resetToken, onDone }: { askCurrent?: boolean; resetToken?: string; onDone: () => void }) {
  const { api, signIn } = useSession();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    // Read before the first await: React clears currentTarget once the handler has returned.
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const newPassword = String(form.get('new_password') ?? '');
    if (newPassword !== String(form.get('repeat') ?? '')) {
      setError('The two new passwords differ: type the same one twice.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (resetToken !== undefined) {
        signIn(unwrap(await api.POST('/auth/password/reset', { body: { token: resetToken, new_password: newPassword } }), 'setting the new password'));
      } else {
        const body = askCurrent ? { current_password: String(form.get('current_password') ?? ''), new_password: newPassword } : { new_password: newPassword };
        signIn(unwrap(await api.POST('/auth/password', { body }), 'changing the password'));
      }
      formElement.reset();
      onDone();
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      {askCurrent && (
        <label>
          Current password
          <input name="current_password" type="password" autoComplete="current-password" required id="current-password" />
        </label>
      )}
      <label>
        New password (at least 8 characters)
        <input name="new_password" type="password" autoComplete="new-password" minLength={8} required id="new-password" />
      </label>
      <label>
        New password again
        <input name="repeat" type="password" autoComplete="new-password" minLength={8} required id="new-password-again" />
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} className="primary">
        {busy ? 'Saving…' : 'Save the password'}
      </button>
    </form>
  );
}
