// Who is signed in: loaded from GET /me at start, refreshed after login, signup and security changes.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken, whenSignedOut, type Me } from './api';

interface SessionState {
  me: Me | null;
  loading: boolean;
  refresh: () => Promise<Me | null>;
  signedOut: () => void;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const refresh = useCallback(async () => {
    try {
      const current = await api.me();
      setCsrfToken(current.csrfToken);
      setMe(current);
      return current;
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) console.error(error);
      setCsrfToken(undefined);
      setMe(null);
      return null;
    } finally {
      setLoading(false);
    }
  }, []);

  const signedOut = useCallback(() => {
    setCsrfToken(undefined);
    setMe(null);
  }, []);

  useEffect(() => {
    whenSignedOut(signedOut);
    void refresh();
  }, [refresh, signedOut]);

  const value = useMemo(() => ({ me, loading, refresh, signedOut }), [me, loading, refresh, signedOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in account, for pages that are only rendered when there is one. */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe without a session');
  return me;
}
