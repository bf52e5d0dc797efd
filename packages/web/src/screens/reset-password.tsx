import { navigate, Link, useLocation } from '../state/router';
import { PasswordForm } from './password-form';

/** /reset-password?token=...: the link of the reset mail; a new password signs the seller in (other sessions end). */
export function ResetPasswordScreen() {
  const token = useLocation().query.get('token') ?? '';
  return (
    <main className="narrow">
      <h1>Choose a new password</h1>
      <p className="muted">Every other session of your account ends: sign in again there with the new password.</p>
      <PasswordForm resetToken={token} onDone={() => navigate('/', { replace: true })} />
      <p>
        Link expired or used already? <Link to="/forgot-password">Ask for a new one</Link>.
      </p>
    </main>
  );
}
