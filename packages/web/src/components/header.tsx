import { credits } from './format';
import { Link, useLocation } from '../state/router';
import { useCatalog } from '../state/catalog';
import { useSession } from '../state/session';

// A hint, not a wall: below this many pictures' worth the seller is nudged to buy before a big upload.
const LOW_BALANCE_PICTURES = 5;

const SELLER_LINKS = [
  { to: '/', label: 'New pictures' },
  { to: '/history', label: 'History' },
  { to: '/buy', label: 'Buy credits' },
  { to: '/gallery', label: 'Examples' },
  { to: '/developers', label: 'Developers' },
  { to: '/account', label: 'Account' },
];

/** The header on every screen: where to go, and for a seller the balance, always in sight. */
export function Header() {
  const { session, balance, me, signOut } = useSession();
  const catalog = useCatalog();
  const { path } = useLocation();
  const price = catalog.status === 'ready' ? catalog.data.credits_per_picture : null;
  // Before the address is proven the free credits are still to come: the banner says so, not a nudge to buy.
  const low = balance !== null && price !== null && balance.available < price * LOW_BALANCE_PICTURES && me?.email_verified !== false;
  return (
    <header className="top">
      <a href="#content" className="skip">
        Skip to content
      </a>
      <Link to="/" className="brand">
        Masterpost
      </Link>
      {session ? (
        <>
          <nav aria-label="Main">
            <ul>
              {SELLER_LINKS.map((link) => (
                <li key={link.to}>
                  <Link to={link.to} aria-current={path === link.to ? 'page' : undefined}>
                    {link.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="balance" aria-live="polite">
            <span id="balance" data-available={balance?.available ?? ''}>
              {balance ? `${credits(balance.available)}` : '… credits'}
            </span>
            {balance && balance.reserved > 0 && <span className="muted"> ({balance.reserved} reserved)</span>}
            {low && (
              <Link to="/buy" className="low-balance" id="low-balance">
                Running low: buy credits
              </Link>
            )}
            <button type="button" onClick={signOut} id="sign-out">
              Sign out
            </button>
          </div>
        </>
      ) : (
        <nav aria-label="Main">
          <ul>
            <li>
              <Link to="/gallery">Examples</Link>
            </li>
            <li>
              <Link to="/signin">Sign in</Link>
            </li>
            <li>
              <Link to="/signup">Create account</Link>
            </li>
          </ul>
        </nav>
      )}
    </header>
  );
}
