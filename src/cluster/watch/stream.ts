/**
 * A watch as a sequence of events: the API server answers a `watch=1` GET with one JSON
 * event per line, for as long as the connection stays open.
 */
import { StringDecoder } from 'node:string_decoder';
import type { KubeClient } from '../client.ts';
import { WatchGoneError, WatchStreamError } from './errors.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** ERROR events never come out as events: readEvents() throws them. */
export interface WatchEvent {
  type: Exclude<WatchEventType, 'ERROR'>;
  object: Record<string, unknown>;
}

const TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export interface OpenWatchOptions {
  signal?: AbortSignal;
  idleTimeoutMs?: number;
}

/** Opens a watch; resolves once the server accepted it (headers received). */
export async function openWatch(
  client: KubeClient,
  path: string,
  query: Record<string, string | undefined>,
  options: OpenWatchOptions = {},
): Promise<AsyncGenerator<WatchEvent>> {
  const res = await client.stream({ path, query: { ...query, watch: '1' }, ...options });
  return readEvents(res);
}

/**
 * Splits a byte stream into events. ERROR events become exceptions: WatchGoneError for 410
 * (the caller must relist), WatchStreamError otherwise (the caller re-watches).
 */
export async function* readEvents(source: AsyncIterable<Buffer | string>): AsyncGenerator<WatchEvent> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    // Search only the new text for line ends: one large object can span many chunks.
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      const line = pending + text.slice(start, nl);
      pending = '';
      if (line.trim()) yield parseEvent(line);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    pending += text.slice(start);
  }
  pending += decoder.end();
  if (pending.trim()) yield parseEvent(pending);
}

function parseEvent(line: string): WatchEvent {
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    throw new WatchStreamError(`watch stream sent a line that is not JSON: ${line.slice(0, 120)}`);
  }
  const { type, object } = (ev ?? {}) as { type?: unknown; object?: unknown };
  if (typeof type !== 'string' || !TYPES.has(type) || !object || typeof object !== 'object') {
    throw new WatchStreamError(`watch stream sent an unexpected event: ${line.slice(0, 120)}`);
  }
  if (type === 'ERROR') {
    const status = object as { code?: number; reason?: string; message?: string };
    const msg = `watch ended by the server: ${status.message ?? status.reason ?? 'unknown error'}`;
    if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone')
      throw new WatchGoneError(msg);
    throw new WatchStreamError(msg);
  }
  return { type: type as WatchEvent['type'], object: object as Record<string, unknown> };
}
