import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HttpRequest } from '../../../src/notify/outcome.ts';
import { NotifyError, sendWithRetries, type SendOptions } from '../../../src/notify/send.ts';

const req: HttpRequest = {
  method: 'POST',
  url: 'https://hooks.slack.com/services/T0/B0/s3cr3t',
  headers: { 'content-type': 'application/json' },
  body: '{"text":"hi"}',
  target: 'Slack webhook on hooks.slack.com',
};

/** A fetch answering with the statuses in turn, recording when each try came (fake time). */
function answering(...statuses: (number | Error)[]) {
  const calls: number[] = [];
  const start = Date.now();
  const fetch = vi.fn((_url: string | URL | Request, _init?: RequestInit) => {
    calls.push(Date.now() - start);
    const s = statuses[Math.min(calls.length - 1, statuses.length - 1)]!;
    if (s instanceof Error) return Promise.reject(s);
    return Promise.resolve(new Response(s === 200 ? 'ok' : 'echo s3cr3t: nope', { status: s }));
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls, mock: fetch };
}

const opts = (fetch: typeof globalThis.fetch): SendOptions => ({
  backoffMs: [1_000, 2_000, 4_000],
  timeoutMs: 10_000,
  fetch,
});

describe('sendWithRetries', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends once when the endpoint answers 2xx, with the exact request', async () => {
    const f = answering(200);
    await expect(sendWithRetries(req, ['s3cr3t'], opts(f.fetch))).resolves.toBe(1);
    expect(f.mock).toHaveBeenCalledWith(
      req.url,
      expect.objectContaining({ method: 'POST', headers: req.headers, body: req.body }),
    );
  });

  it('retries 5xx, 429 and network errors after 1 s, 2 s and 4 s', async () => {
    const f = answering(500, 429, new TypeError('fetch failed'), 200);
    const sent = sendWithRetries(req, ['s3cr3t'], opts(f.fetch));
    await vi.advanceTimersByTimeAsync(7_000);
    await expect(sent).resolves.toBe(4);
    expect(f.calls).toEqual([0, 1_000, 3_000, 7_000]);
  });

  it('gives up after the last try with an error that names the target and masks the secret', async () => {
    const f = answering(503);
    const sent = sendWithRetries(
      req,
      ['https://hooks.slack.com/services/T0/B0/s3cr3t', 's3cr3t'],
      opts(f.fetch),
    );
    const caught = sent.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(7_000);
    const err = await caught;
    expect(err).toBeInstanceOf(NotifyError);
    expect((err as Error).message).toBe('Slack webhook on hooks.slack.com: HTTP 503: echo ***: nope');
    expect(f.calls).toHaveLength(4);
  });

  it('does not retry another 4xx: a wrong token stays wrong', async () => {
    const f = answering(401);
    await expect(sendWithRetries(req, [], opts(f.fetch))).rejects.toThrow(/HTTP 401/);
    expect(f.calls).toHaveLength(1);
  });

  it('a try without an answer within the timeout is aborted and retried', async () => {
    let n = 0;
    const fetch = ((_u: string, init: RequestInit) => {
      n++;
      if (n > 1) return Promise.resolve(new Response('ok'));
      return new Promise((_, reject) =>
        init.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }) as unknown as typeof globalThis.fetch;
    const sent = sendWithRetries(req, [], { backoffMs: [1_000], timeoutMs: 5_000, fetch });
    await vi.advanceTimersByTimeAsync(6_000);
    await expect(sent).resolves.toBe(2);
  });
});
