import { credits } from '../components/format';
import { Link, useLocation } from '../state/router';

/** After the account is deleted (the seller is signed out by then): what went with it. */
export function GoodbyeScreen() {
  const { query } = useLocation();
  const forfeited = Number(query.get('credits') ?? 'NaN');
  const jobs = Number(query.get('jobs') ?? 'NaN');
  return (
    <main className="narrow">
      <h1>Your account is deleted</h1>
      <p role="status" id="goodbye">
        Your pictures, photos, keys and webhooks are gone
        {Number.isFinite(jobs) ? ` (${jobs} job${jobs === 1 ? '' : 's'})` : ''}
        {Number.isFinite(forfeited) && forfeited > 0 ? `, and the ${credits(forfeited)} left with them` : ''}. Thank you for using Masterpost.
      </p>
      <p className="muted">Our accounting keeps its records of your payments, with your address removed from them.</p>
      <p>
        <Link to="/">Back to the start</Link>
      </p>
    </main>
  );
}
