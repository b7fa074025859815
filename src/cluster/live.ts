/**
 * Where live objects come from: straight from the API server (the CLI: one GET each), or
 * from a watch-backed cache (the agent: no request at all for an unchanged object).
 */
import type { KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { ResourceInfo } from './discovery.ts';
import { getObject } from './get.ts';
import type { WatchCache } from './watch-cache.ts';

export interface LiveReader {
  get(info: ResourceInfo, namespace: string, name: string): Promise<KubeObject | undefined>;
}

export function directReader(client: KubeClient): LiveReader {
  return { get: (info, namespace, name) => getObject(client, info, namespace, name) };
}

/** What the agent's app runners need from the watch cache. */
export interface LiveTracker {
  track(info: ResourceInfo, namespaces?: string[]): Promise<void>;
  /**
   * Changes whenever a live read may answer differently than before (an object changed, a
   * watch was added, a read missed the cache); undefined while a watch is down. With `app`,
   * changes to other apps' objects do not count.
   */
  version(app?: string): string | undefined;
  /** The cached object, never a request (health is read from the cache alone). */
  peek(info: ResourceInfo, namespace: string, name: string): KubeObject | undefined;
}

/**
 * Reads from the watch cache, which holds what Tether labelled; anything else (not applied
 * yet, or relabelled by someone) is read from the server, and such a miss changes the
 * tracker's version: nothing vouches for that object next time.
 */
export function watchedReader(
  cache: WatchCache,
  client: KubeClient,
): { live: LiveReader; tracker: LiveTracker } {
  let misses = 0;
  return {
    live: {
      get: async (info, namespace, name) => {
        const cached = cache.get(info, namespace, name);
        if (cached) return cached;
        misses++;
        return getObject(client, info, namespace, name);
      },
    },
    tracker: {
      track: (info, namespaces) => cache.track(info, namespaces),
      version: (app) =>
        cache.synced ? `${app === undefined ? cache.revision : cache.revisionFor(app)}/${misses}` : undefined,
      peek: (info, namespace, name) => cache.get(info, namespace, name),
    },
  };
}
