// The HTTP plugin handed to isomorphic-git (and used by our own ls-refs): node's http/https
// with a custom CA bundle, an inactivity timeout on every call, a cap on response size (so a
// huge pack cannot exhaust memory: isomorphic-git holds a fetched pack in memory), and a
// request counter. Credentials never enter the URL; they come as an Authorization header.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { FetchTooLargeError, InvalidSourceError } from './errors.ts';
import { networkError, timeoutError, type TransportTarget } from './transport-errors.ts';
import type { GitRequestKind } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest response accepted (a fetched pack): 1 GiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024 * 1024;

export interface HttpClientOptions {
  target: TransportTarget;
  caFile?: string;
  maxResponseBytes?: number;
  onRequest?: (kind: GitRequestKind) => void;
}

export function requestKind(url: URL, method: string, body: Buffer): GitRequestKind {
  if (url.pathname.endsWith('/git-receive-pack') || url.searchParams.get('service') === 'git-receive-pack')
    return 'push';
  if (method === 'GET') return 'discover';
  return body.includes('command=ls-refs') ? 'ls-refs' : 'fetch';
}

export async function collectBody(body: GitHttpRequest['body']): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `source` passed through, failing once more than `max` bytes came (leaving the loop closes it). */
export async function* limited(
  source: AsyncIterable<Uint8Array>,
  max: number,
  target: TransportTarget,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > max) {
      throw new FetchTooLargeError(`the answer of ${target.url} exceeds ${max} bytes`, {
        hint: 'the repository is too large to fetch in memory; track a smaller repository or raise the limit',
      });
    }
    yield chunk;
  }
}

export function makeHttpClient(options: HttpClientOptions): HttpClient {
  const { target } = options;
  const max = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let ca: Buffer | undefined;
  if (options.caFile !== undefined) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new InvalidSourceError(
        `cannot read caFile ${options.caFile} (${(err as NodeJS.ErrnoException).code})`,
        {
          hint: 'point caFile at a readable PEM bundle',
        },
      );
    }
  }

  async function request(req: GitHttpRequest): Promise<GitHttpResponse> {
    const url = new URL(req.url);
    // Defensive: never let credentials travel in the request line.
    url.username = '';
    url.password = '';
    const method = req.method ?? 'GET';
    const body = await collectBody(req.body);
    const headers: Record<string, string> = { ...req.headers };
    if (method !== 'GET') headers['content-length'] = String(body.byteLength);
    options.onRequest?.(requestKind(url, method, body));

    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let timedOut = false;
    const fail = (err: unknown) => (timedOut ? timeoutError(target) : networkError(err, target));
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const r = send(url, { method, headers, ...(ca ? { ca } : {}), signal: req.signal }, resolve);
      // Inactivity timeout: covers connecting, waiting for headers and stalls mid-body.
      r.setTimeout(target.timeoutMs, () => {
        timedOut = true;
        r.destroy(timeoutError(target));
      });
      r.on('error', (err) => reject(fail(err)));
      r.end(body);
    });
    res.on('error', () => {
      // Surfaced to the reader of the body iterator.
    });
    const resHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const iterable = limited(res, max, target);
    return {
      url: url.toString(),
      method,
      statusCode: res.statusCode ?? 0,
      statusMessage: res.statusMessage ?? '',
      headers: resHeaders,
      body: (async function* () {
        try {
          yield* iterable;
        } catch (err) {
          throw fail(err);
        }
      })(),
    };
  }
  return { request };
}
