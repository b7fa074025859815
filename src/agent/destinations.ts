/**
 * One API connection and one watch cache per destination cluster (kubeconfig + context),
 * shared by every app that deploys there. A watch event on an object is routed to the app
 * named by its tether.dev/app label.
 */
import { APP_LABEL, INVENTORY_LABEL, labelOf, MANAGED_SELECTOR } from '../contract.ts';
import { watchedReader, type LiveTracker } from '../cluster/live.ts';
import { WatchCache } from '../cluster/watch-cache.ts';
import type { App } from '../sync/app.ts';
import { connect, type Connection } from '../sync/pipeline.ts';
import type { Logger } from './logger.ts';

export interface Destination {
  conn: Connection;
  cache: WatchCache;
  tracker: LiveTracker;
}

export class Destinations {
  private readonly byKey = new Map<string, Destination>();

  private readonly log: Logger;
  /** Called with the app an event's object belongs to. */
  private readonly onChange: (app: string) => void;

  constructor(log: Logger, onChange: (app: string) => void) {
    this.log = log;
    this.onChange = onChange;
  }

  for(app: App): Promise<Destination> {
    return this.cluster(app.destination.kubeconfig, app.destination.context);
  }

  /** The destination of a kubeconfig and context (unset: $KUBECONFIG, ~/.kube/config or in-cluster). */
  async cluster(kubeconfig?: string, context?: string): Promise<Destination> {
    const key = `${kubeconfig ?? ''}|${context ?? ''}`;
    const existing = this.byKey.get(key);
    if (existing) return existing;
    const base = await connect({ kubeconfig, context });
    const cache = new WatchCache(base.client, {
      labelSelector: MANAGED_SELECTOR,
      // An app's objects, and its inventory: another app's writes never make it re-evaluate.
      ownerOf: (obj) => labelOf(obj, APP_LABEL) ?? labelOf(obj, INVENTORY_LABEL),
      onChange: (ev) => {
        const owner = labelOf(ev.object, APP_LABEL);
        if (owner) this.onChange(owner);
      },
      log: (level, msg, fields) => this.log[level]({ ...fields, component: 'watch' }, msg),
    });
    const { live, tracker } = watchedReader(cache, base.client);
    const d = { conn: { ...base, live }, cache, tracker };
    this.byKey.set(key, d);
    return d;
  }

  all(): Destination[] {
    return [...this.byKey.values()];
  }

  stop(): void {
    for (const d of this.byKey.values()) {
      d.cache.stop();
      d.conn.client.close();
    }
  }
}
