import { useCallback, useEffect, useRef, useState } from "react";

/** Anything but undefined, which stands for "nothing loaded yet". */
type Value = {} | null;

/** What to show in place of the content: a placeholder, why it failed, or the value (kept
 * while it reloads and when a reload fails). */
export type ResourceView<T extends Value> =
  | { status: "loading"; value: undefined }
  | { status: "failed"; value: undefined }
  | { status: "ready"; value: T };

/** Something loaded from the server, as a component shows it. */
export type Resource<T extends Value> = ResourceView<T> & {
  /** Why the latest load failed; undefined while one is under way or after one succeeded. */
  error: unknown;
  /** A load is under way (the first, or a reload behind a value still shown). */
  loading: boolean;
  /** Load again (a retry, or after a change); resolves once it has settled. */
  reload: () => Promise<void>;
  /** Take a value the server returned elsewhere (the reply to a change) as the current one;
   * a load in flight is dropped. */
  set: (value: T) => void;
};

interface Loaded<T extends Value> {
  key: string;
  value: T | undefined;
  error: unknown;
  loading: boolean;
}

/** Loads `key` with `load` on mount and whenever `key` changes (a newer load, or unmounting,
 * aborts the one in flight through its signal, and its answer is dropped). `key` names what
 * is loaded, usually its path; `load` may be a new function on every render. */
export function useResource<T extends Value>(key: string, load: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ key, value: undefined, error: undefined, loading: true });
  const latestLoad = useRef(load);
  useEffect(() => {
    latestLoad.current = load;
  });
  const inFlight = useRef<AbortController | null>(null);

  const reload = useCallback(async () => {
    inFlight.current?.abort();
    const abort = new AbortController();
    inFlight.current = abort;
    setLoaded((current) => ({ key, value: current.key === key ? current.value : undefined, error: undefined, loading: true }));
    try {
      const value = await latestLoad.current(abort.signal);
      if (!abort.signal.aborted) setLoaded({ key, value, error: undefined, loading: false });
    } catch (error) {
      if (!abort.signal.aborted) setLoaded((current) => ({ ...current, key, error, loading: false }));
    } finally {
      if (inFlight.current === abort) inFlight.current = null;
    }
  }, [key]);

  useEffect(() => {
    void reload();
    return () => inFlight.current?.abort();
  }, [reload]);

  const set = useCallback(
    (value: T) => {
      inFlight.current?.abort();
      inFlight.current = null;
      setLoaded({ key, value, error: undefined, loading: false });
    },
    [key],
  );

  // Until the effect for a new key has run, what is held belongs to the old one.
  const current: Loaded<T> = loaded.key === key ? loaded : { key, value: undefined, error: undefined, loading: true };
  const controls = { error: current.error, loading: current.loading, reload, set };
  if (current.value !== undefined) return { status: "ready", value: current.value, ...controls };
  return { status: current.loading ? "loading" : "failed", value: undefined, ...controls };
}
