import { useEffect, useState } from 'react';
import { messageOf, unwrap } from '../api/client';
import { credits } from '../components/format';
import { Link } from '../state/router';
import { useSignedIn } from '../state/session';

type Waiting = { state: 'waiting' } | { state: 'granted'; added: number; available: number } | { state: 'slow' } | { state: 'error'; message: string };

// Stripe's webhook usually lands within seconds; after this long the seller is told it is late, not lost.
const PATIENCE_MS = 120_000;
const POLL_MS = 1_500;

/**
 * Back from Stripe Checkout: the credits arrive when Stripe's webhook reaches billing, which may be
 * a moment after the redirect. The grant carries the Checkout Session's id, so the page waits for
 * that movement in the credit history, then shows the new balance.
 */
export function CheckoutReturnScreen({ sessionId }: { sessionId: string }) {
  const { api, refreshBalance } = useSignedIn();
  const [waiting, setWaiting] = useState<Waiting>({ state: 'waiting' });

  useEffect(() => {
    let stopped = false;
    const started = Date.now();
    const check = async () => {
      const page = unwrap(await api.GET('/credits/history', { params: { query: { limit: 20 } } }), 'reading your credits');
      const grant = page.items.find((item) => item.kind === 'purchase' && item.reference.endsWith(sessionId));
      if (grant) {
        const balance = await refreshBalance();
        if (!stopped) setWaiting({ state: 'granted', added: grant.delta, available: balance?.available ?? 0 });
        return;
      }
      if (Date.now() - started > PATIENCE_MS) {
        if (!stopped) setWaiting({ state: 'slow' });
        return;
      }
      if (!stopped) setTimeout(() => void check().catch(fail), POLL_MS);
    };
    const fail = (error: unknown) => !stopped && setWaiting({ state: 'error', message: messageOf(error) });
    void check().catch(fail);
    return () => {
      stopped = true;
    };
  }, [api, refreshBalance, sessionId]);

  return (
    <main className="narrow">
      <h1>Thank you</h1>
      <div role="status" aria-live="polite" id="checkout-status">
        {waiting.state === 'waiting' && <p>Payment received by Stripe. Waiting for your credits to arrive…</p>}
        {waiting.state === 'granted' && (
          <p className="success">
            {credits(waiting.added)} added. You now have <strong id="new-balance">{credits(waiting.available)}</strong> available.
          </p>
        )}
        {waiting.state === 'slow' && <p className="warning">Stripe has not confirmed the payment yet. Your credits will appear as soon as it does; nothing more to do.</p>}
        {waiting.state === 'error' && <p className="error">Could not check your credits: {waiting.message}</p>}
      </div>
      <p>
        <Link to="/">Upload photos</Link> · <Link to="/history">History</Link>
      </p>
    </main>
  );
}
