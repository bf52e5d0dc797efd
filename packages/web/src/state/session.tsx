import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { apiClient, unwrap, type MasterpostClient, type Schemas } from '../api/client';

/**
 * The signed-in seller: the token (kept in localStorage so a reload or the return from Stripe
 * finds the seller still signed in), their email and their credits, always current in the header.
 */
interface StoredSession {
  token: string;
  email: string;
  passwordRequired: boolean;
}

export interface SessionValue {
  session: StoredSession | null;
  balance: Schemas['CreditBalance'] | null;
  /** The account as GET /auth/me has it (verified or not, an address waiting, preferences), once loaded. */
  me: Schemas['Me'] | null;
  api: MasterpostClient;
  signIn: (answer: Schemas['Session']) => void;
  signOut: () => void;
  refreshBalance: () => Promise<Schemas['CreditBalance'] | null>;
  refreshMe: () => Promise<Schemas['Me'] | null>;
  /** An answer that carries the account (verification, preferences, a confirmed address): shown at once. */
  applyMe: (me: Schemas['Me']) => void;
}

const STORAGE_KEY = 'masterpost.session';
const SessionContext = createContext<SessionValue | null>(null);

function load(): StoredSession | null {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as StoredSession | null;
    return stored && typeof stored.token === 'string' ? stored : null;
  } catch {
    return null;
  }
}

/** Bull Board (/admin/queues) reads the token from this cookie; nothing else does. */
function setAdminCookie(token: string | null): void {
  document.cookie = token ? `mp_token=${encodeURIComponent(token)}; path=/admin; SameSite=Strict` : 'mp_token=; path=/admin; max-age=0';
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<StoredSession | null>(load);
  const [balance, setBalance] = useState<Schemas['CreditBalance'] | null>(null);
  const [me, setMe] = useState<Schemas['Me'] | null>(null);
  const api = useMemo(() => apiClient(session?.token ?? null), [session?.token]);

  const signOut = useCallback(() => {
    localStorage.removeItem(STORAGE_KEY);
    setAdminCookie(null);
    setSession(null);
    setBalance(null);
    setMe(null);
  }, []);

  const signIn = useCallback((answer: Schemas['Session']) => {
    const stored = { token: answer.access_token, email: answer.user.email, passwordRequired: answer.password_required === true };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
    setAdminCookie(answer.access_token);
    setSession(stored);
    setBalance(answer.credits);
    setMe(null);
  }, []);

  const applyMe = useCallback((fresh: Schemas['Me']) => {
    setMe(fresh);
    setBalance(fresh.credits);
    // A confirmed new address: the stored session (and the header) follow it.
    setSession((current) => {
      if (!current || current.email === fresh.email) return current;
      const stored = { ...current, email: fresh.email };
      localStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
      return stored;
    });
  }, []);

  const refreshMe = useCallback(async () => {
    if (!session) return null;
    const answer = await api.GET('/auth/me');
    if (answer.response.status === 401) {
      signOut();
      return null;
    }
    const fresh = unwrap(answer, 'reading your account');
    applyMe(fresh);
    return fresh;
  }, [api, session, signOut, applyMe]);

  const refreshBalance = useCallback(async () => {
    if (!session) return null;
    const answer = await api.GET('/credits/balance');
    // An expired or revoked session: back to signing in rather than failing every screen.
    if (answer.response.status === 401) {
      signOut();
      return null;
    }
    const fresh = unwrap(answer, 'reading your balance');
    setBalance(fresh);
    return fresh;
  }, [api, session, signOut]);

  useEffect(() => {
    refreshBalance().catch(() => undefined);
  }, [refreshBalance]);

  useEffect(() => {
    refreshMe().catch(() => undefined);
  }, [refreshMe]);

  const value = useMemo(
    () => ({ session, balance, me, api, signIn, signOut, refreshBalance, refreshMe, applyMe }),
    [session, balance, me, api, signIn, signOut, refreshBalance, refreshMe, applyMe],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** For screens only a signed-in seller reaches: the session, known to be there. */
export function useSignedIn(): SessionValue & { session: StoredSession } {
  const value = useSession();
  if (!value.session) throw new Error('this screen needs a signed-in seller');
  return value as SessionValue & { session: StoredSession };
}
