import { navigate } from '../state/router';
import { PasswordForm } from './password-form';

/** After signing in with an old access code: the code works once, a password from now on. */
export function ChoosePasswordScreen() {
  return (
    <main className="narrow">
      <h1>Choose a password</h1>
      <p>Welcome to the new Masterpost. Your old access code has done its job: choose the password you will sign in with from now on.</p>
      <PasswordForm askCurrent={false} onDone={() => navigate('/', { replace: true })} />
    </main>
  );
}
