import { DvdClient, DvdProblemError } from '@dvd/sdk';
import { createContext, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import type { Auth, AuthState, Session } from '../auth/auth';
import { absoluteApiBase, type AppConfig } from '../config';
import { LiveEvents } from '../live/live';

export interface AppServices {
  config: AppConfig;
  auth: Auth;
  client: DvdClient;
  /** The session's event stream (started after login by LiveConnection). */
  live: LiveEvents;
}

const Ctx = createContext<AppServices | null>(null);

export function AppProvider({ config, auth, children }: { config: AppConfig; auth: Auth; children: ReactNode }) {
  const value = useMemo<AppServices>(() => {
    const client = new DvdClient({ baseUrl: absoluteApiBase(config, window.location.origin), token: auth.accessToken });
    return { config, auth, client, live: new LiveEvents(client) };
  }, [config, auth]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useServices(): AppServices {
  const v = useContext(Ctx);
  if (!v) throw new Error('AppProvider is missing');
  return v;
}

export function useAuthState(): AuthState {
  const { auth } = useServices();
  return useSyncExternalStore(auth.subscribe, auth.getState);
}

/** The session of a page that is only reachable when logged in. */
export function useSession(): Session {
  const state = useAuthState();
  if (state.status !== 'authenticated') throw new Error('not logged in');
  return state.session;
}

/** After a 401 the session is refreshed once or ended (the app then shows the login). */
export async function handleUnauthorized(auth: Auth, err: unknown): Promise<boolean> {
  if (err instanceof DvdProblemError && err.status === 401) return auth.unauthorized();
  return false;
}
