/**
 * The page's only link to the world: GET requests to the agent that served it (same origin,
 * nothing else), with the bearer token when the agent asks for one, and the live feed of
 * /api/events read as a stream (so it can carry the token too). The page never writes.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ErrorView } from '../shared/api.ts';

const TOKEN_KEY = 'tether-token';

/** Thrown when the agent wants a bearer token (ui.auth.bearerTokenFile). */
export class NeedsToken extends Error {}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();
const notify = () => listeners.forEach((l) => l());

/** The token this tab was given (kept for the tab's life only), or null. */
export function token(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(value: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, value.trim());
  } catch {
    // Storage refused (private mode): the token lasts until the page is reloaded.
  }
  memoryToken = value.trim();
  needsToken = false;
  changes++;
  notify();
  reconnectNow?.();
}

/** Set while the live feed waits to reconnect: connects at once (a token was just given). */
let reconnectNow: (() => void) | undefined;

let memoryToken: string | null = null;
let needsToken = false;

function headers(): HeadersInit {
  const t = memoryToken ?? token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

function refused(res: Response): boolean {
  if (res.status !== 401 || !/^bearer/i.test(res.headers.get('WWW-Authenticate') ?? '')) return false;
  needsToken = true;
  notify();
  return true;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: headers(), ...(signal ? { signal } : {}), cache: 'no-store' });
  if (refused(res)) throw new NeedsToken('the agent asks for an access token');
  if (!res.ok) {
    const body = (await res.json().catch(() => undefined)) as ErrorView | undefined;
    throw new ApiError(res.status, body?.error ?? `HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

let changes = 0;
let live: LiveState = 'connecting';

/**
 * Follows /api/events: every `change` event (and every reconnection, which starts with one)
 * bumps the change counter that the views reload on. Reconnects a second after a break.
 */
export function startLiveFeed(): void {
  const connect = async (): Promise<void> => {
    try {
      const res = await fetch('/api/events', { headers: headers(), cache: 'no-store' });
      if (refused(res) || !res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: change$/m.test(block)) {
            changes++;
            live = 'live';
            notify();
          }
        }
      }
    } catch {
      // A break, a refusal or the agent restarting: try again shortly.
    }
    live = 'reconnecting';
    notify();
    const timer = setTimeout(() => again(), needsToken ? 3000 : 1000);
    const again = () => {
      clearTimeout(timer);
      reconnectNow = undefined;
      void connect();
    };
    reconnectNow = again;
  };
  void connect();
}

/** Re-renders the caller on every change of the feed or the token state. */
export function useFeed(): { changes: number; live: LiveState; needsToken: boolean } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return { changes, live, needsToken };
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
}

/**
 * Loads `path` now and again after every change the feed reports (unless `follow` is false),
 * keeping the last good data on screen while the next load runs. A load under way is not
 * cut short by the next change (on a busy agent every load would be), and an answer older
 * than the one shown is dropped.
 */
export function useApi<T>(path: string, follow = true): Loaded<T> & { reload: () => void } {
  const { changes: n } = useFeed();
  const [manual, setManual] = useState(0);
  const [state, setState] = useState<Loaded<T> & { path: string }>({
    path,
    data: undefined,
    error: undefined,
    loading: true,
  });
  const order = useRef({ asked: 0, shown: 0 });
  const trigger = follow ? n : 0;
  // Leaving the path (or the page) abandons its loads.
  const abort = useRef(new AbortController());
  useEffect(() => {
    const controller = new AbortController();
    abort.current = controller;
    return () => controller.abort();
  }, [path]);
  useEffect(() => {
    const mine = ++order.current.asked;
    const { signal } = abort.current;
    const fresh = () => !signal.aborted && mine >= order.current.shown;
    setState((s) =>
      s.path === path ? { ...s, loading: true } : { path, data: undefined, error: undefined, loading: true },
    );
    getJson<T>(path, signal).then(
      (data) => {
        if (!fresh()) return;
        order.current.shown = mine;
        setState({ path, data, error: undefined, loading: false });
      },
      (e: unknown) => {
        // The last good data stays on screen, with the error above it.
        if (fresh())
          setState((s) => ({ ...s, error: e instanceof Error ? e.message : String(e), loading: false }));
      },
    );
  }, [path, trigger, manual]);
  // Data of the path asked for only: never the previous page's while the next one loads.
  const current = state.path === path ? state : { data: undefined, error: undefined, loading: true };
  return {
    data: current.data,
    error: current.error,
    loading: current.loading,
    reload: () => setManual((m) => m + 1),
  };
}
