/**
 * Sends one notification request with retries: a network error, a timeout, 408, 429 or a 5xx
 * answer is tried again after an exponential backoff (1 s, 2 s, 4 s by default); another 4xx
 * is final (a wrong token stays wrong). Errors name the endpoint by its `target` and never
 * quote a secret: every secret the caller names is masked wherever it shows.
 */
import { redactUrl, TetherError } from '../errors.ts';
import type { HttpRequest } from './outcome.ts';

export class NotifyError extends TetherError {}

export interface SendOptions {
  /** Waits before the 2nd, 3rd, ... try; its length + 1 is the number of tries. */
  backoffMs: readonly number[];
  /** Per try. */
  timeoutMs: number;
  fetch: typeof fetch;
}

export const DEFAULT_SEND: SendOptions = {
  backoffMs: [1_000, 2_000, 4_000],
  timeoutMs: 10_000,
  fetch: (input, init) => fetch(input, init),
};

/** How much of an error answer's body an error quotes. */
const BODY_EXCERPT = 200;

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Masks each secret (and its URL-encoded form) and the credentials of URLs in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return redactUrl(out);
}

/** Resolves with the number of tries it took; rejects with a NotifyError after the last. */
export async function sendWithRetries(
  req: HttpRequest,
  secrets: readonly string[],
  opts: SendOptions = DEFAULT_SEND,
): Promise<number> {
  const tries = opts.backoffMs.length + 1;
  let last = '';
  for (let i = 0; i < tries; i++) {
    if (i > 0) await sleep(opts.backoffMs[i - 1]!);
    const outcome = await tryOnce(req, opts);
    if (outcome.ok) return i + 1;
    last = outcome.error;
    if (!outcome.retry) break;
  }
  throw new NotifyError(redactSecrets(`${req.target}: ${last}`, secrets));
}

async function tryOnce(
  req: HttpRequest,
  opts: SendOptions,
): Promise<{ ok: true } | { ok: false; retry: boolean; error: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs);
  try {
    const res = await opts.fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: abort.signal,
      redirect: 'error',
    });
    const text = await res.text().catch(() => '');
    if (res.ok) return { ok: true };
    const excerpt = text.trim().slice(0, BODY_EXCERPT).replace(/\s+/g, ' ');
    return {
      ok: false,
      retry: retryable(res.status),
      error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}`,
    };
  } catch (e) {
    if (abort.signal.aborted)
      return { ok: false, retry: true, error: `no answer within ${opts.timeoutMs / 1000}s` };
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return { ok: false, retry: true, error: `${e instanceof Error ? e.message : String(e)}${cause}` };
  } finally {
    clearTimeout(timer);
  }
}
