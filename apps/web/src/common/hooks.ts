import { useCallback, useEffect, useRef, useState } from 'react';
import { handleUnauthorized, useServices } from '../app/context';
import { isAbort } from './errors';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: (prev: T | undefined) => T | undefined) => void;
}

/**
 * Loads data for a view; reloads when `deps` change or on `reload()`. A 401 refreshes the
 * session once and tries again. Aborted when the view goes away.
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const { auth } = useServices();
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    const attempt = async (retried: boolean): Promise<void> => {
      try {
        const result = await loadRef.current(controller.signal);
        if (!controller.signal.aborted) setDataState(result);
      } catch (err) {
        if (controller.signal.aborted || isAbort(err)) return;
        if (!retried && (await handleUnauthorized(auth, err))) return attempt(true);
        setError(err);
      }
    };
    void attempt(false).finally(() => {
      if (!controller.signal.aborted) setLoading(false);
    });
    return () => controller.abort();
  }, [...deps, round, auth]);

  const reload = useCallback(() => setRound((r) => r + 1), []);
  const setData = useCallback((update: (prev: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

export interface Action {
  busy: boolean;
  error: unknown;
  /** Runs `fn`; resolves with its result, or undefined when it failed (the error is in `error`). */
  run: <R>(fn: () => Promise<R>) => Promise<R | undefined>;
  clear: () => void;
}

/** One user action at a time (a button): busy flag, error, one retry after a refreshed session. */
export function useAction(): Action {
  const { auth } = useServices();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const run = useCallback(
    async <R>(fn: () => Promise<R>): Promise<R | undefined> => {
      setBusy(true);
      setError(undefined);
      try {
        try {
          return await fn();
        } catch (err) {
          if (await handleUnauthorized(auth, err)) return await fn();
          throw err;
        }
      } catch (err) {
        if (mounted.current) setError(err);
        return undefined;
      } finally {
        if (mounted.current) setBusy(false);
      }
    },
    [auth],
  );
  const clear = useCallback(() => setError(undefined), []);
  return { busy, error, run, clear };
}
