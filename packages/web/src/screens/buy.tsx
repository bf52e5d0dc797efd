import { useState } from 'react';
import { apiClient, messageOf, unwrap } from '../api/client';
import { credits, money } from '../components/format';
import { Empty, ErrorNote, Loaded } from '../components/status';
import { useLocation } from '../state/router';
import { useSignedIn } from '../state/session';
import { useAsync } from '../state/use-async';

/** The packs on sale (from the API), each paid on Stripe Checkout. */
export function BuyScreen() {
  const { api, balance } = useSignedIn();
  const { query } = useLocation();
  const packs = useAsync(async () => unwrap(await apiClient(null).GET('/payments/packs'), 'loading the packs'), []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const buy = async (pack: string) => {
    setBusy(pack);
    setError(null);
    try {
      const checkout = unwrap(await api.POST('/payments/checkout', { body: { pack } }), 'opening the checkout');
      window.location.assign(checkout.url);
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(null);
    }
  };

  return (
    <main>
      <h1>Buy credits</h1>
      {balance && <p>You have {credits(balance.available)} available.</p>}
      {query.get('checkout') === 'cancelled' && <p className="warning">The payment was cancelled: nothing was charged.</p>}
      {error && <ErrorNote message={error} />}
      <Loaded state={packs} what="the packs">
        {(list) =>
          list.length === 0 ? (
            <Empty>No packs are on sale right now.</Empty>
          ) : (
            <ul className="packs" id="packs">
              {list.map((pack) => (
                <li key={pack.id} className="pack" data-pack={pack.id}>
                  <h2>{pack.name}</h2>
                  <p className="pack-credits">{credits(pack.credits)}</p>
                  <p>{money(pack.price_cents, pack.currency)}</p>
                  <button type="button" className="primary" onClick={() => void buy(pack.id)} disabled={busy !== null} aria-label={`Buy ${pack.name}: ${credits(pack.credits)} for ${money(pack.price_cents, pack.currency)}`}>
                    {busy === pack.id ? 'Opening Stripe…' : 'Buy'}
                  </button>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
      <p className="muted">Payments are handled by Stripe; we never see your card.</p>
    </main>
  );
}
