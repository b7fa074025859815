/**
 * Live objects from memory: one LIST+WATCH per tracked kind (and namespace, when the caller
 * only has namespaced RBAC), so a reconcile tick with no change makes no request and an
 * out-of-band change is seen as soon as the API server sends it (DESIGN.md, point 4).
 * Objects are kept whole, managedFields included: the drift engine reads them.
 */
import type { KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { ResourceInfo } from './discovery.ts';
import { WatchStoppedError } from './watch/errors.ts';
import { objectKey, Reflector } from './watch/reflector.ts';
import type { ChangeEvent, LogFn } from './watch/types.ts';

export type { ChangeEvent, ChangeType, LogFn, LogLevel } from './watch/types.ts';
export { WatchStoppedError } from './watch/errors.ts';

export interface WatchCacheOptions {
  /** Called for every change after a kind's first LIST (not for that LIST itself), including
   * the differences found when a relist follows a 410 Gone. */
  onChange?: (ev: ChangeEvent) => void;
  log?: LogFn;
  /**
   * Who an object belongs to (an app, by its labels): a change to it then changes only that
   * owner's revision (revisionFor), so one app's writes do not make every other app re-read.
   */
  ownerOf?: (obj: KubeObject) => string | undefined;
  /** Restricts every tracked kind, e.g. `app.kubernetes.io/managed-by=tether`. */
  labelSelector?: string;
  /** LIST page size. */
  pageSize?: number;
  /** Server-side watch timeout before jitter (seconds). */
  watchTimeoutSeconds?: number;
}

/** Scope key of a cluster-wide watch. */
const ALL = '*';

const kindKey = (info: ResourceInfo): string => `${info.group}/${info.version}/${info.resource}`;

export class WatchCache {
  private readonly client: KubeClient;
  private readonly opts: WatchCacheOptions;
  /** kind -> scope (namespace, or ALL) -> reflector */
  private readonly kinds = new Map<string, Map<string, Reflector>>();
  private stopped = false;
  /** Changes no single owner accounts for: watches added or dropped, relists, unowned objects. */
  private changes = 0;
  /** Changes to owned objects, by owner. */
  private readonly ownerChanges = new Map<string, number>();
  private ownedChanges = 0;

  constructor(client: KubeClient, opts: WatchCacheOptions = {}) {
    this.client = client;
    this.opts = opts;
  }

  /**
   * Starts watching a kind (cluster-wide, or limited to namespaces when the caller has only
   * namespaced RBAC). Resolves after the initial LIST is in memory and the watch is up;
   * rejects when the server refuses either (unknown resource, no permission). Idempotent;
   * network errors are retried until stop().
   */
  async track(info: ResourceInfo, namespaces?: string[]): Promise<void> {
    if (this.stopped) throw new WatchStoppedError('the watch cache was stopped');
    const key = kindKey(info);
    let scopes = this.kinds.get(key);
    if (!scopes) this.kinds.set(key, (scopes = new Map<string, Reflector>()));
    const wanted = !info.namespaced || namespaces === undefined ? [ALL] : [...new Set(namespaces)];
    const all = scopes.get(ALL);
    const reflectors = wanted.map((scope) => {
      if (all) return all;
      let r = scopes.get(scope);
      if (!r) {
        r = new Reflector(this.client, {
          info,
          namespace: scope === ALL ? undefined : scope,
          labelSelector: this.opts.labelSelector,
          onChange: this.opts.onChange,
          onStore: (changed) => this.stored(changed),
          log: this.opts.log,
          pageSize: this.opts.pageSize,
          watchTimeoutSeconds: this.opts.watchTimeoutSeconds,
        });
        scopes.set(scope, r);
        this.changes++;
        const created = r;
        // A refused first LIST drops the reflector, so a later track() can try again.
        created.ready.catch(() => {
          if (scopes.get(scope) === created) scopes.delete(scope);
        });
        created.start();
      }
      return r;
    });
    await Promise.all(reflectors.map((r) => r.ready));
    // A cluster-wide watch makes the per-namespace ones redundant.
    if (scopes.has(ALL) && scopes.get(ALL)?.hasListed) {
      for (const [scope, r] of scopes) {
        if (scope !== ALL) {
          r.stop();
          scopes.delete(scope);
          this.changes++;
        }
      }
    }
  }

  /** The live object as last seen, or undefined (absent, or its kind/namespace not tracked: see covers()). */
  get(info: ResourceInfo, namespace: string, name: string): KubeObject | undefined {
    const r = this.reflectorFor(info, namespace);
    return r?.store.get(info.namespaced ? objectKey(namespace, name) : name);
  }

  /** Every object of a kind in memory (each tracked scope's). */
  list(info: ResourceInfo): KubeObject[] {
    const out: KubeObject[] = [];
    for (const r of this.kinds.get(kindKey(info))?.values() ?? [])
      for (const key of r.store.keys()) {
        const obj = r.store.get(key);
        if (obj) out.push(obj);
      }
    return out;
  }

  /** True when get() for this kind and namespace answers from a completed LIST. */
  covers(info: ResourceInfo, namespace: string): boolean {
    return this.reflectorFor(info, namespace) !== undefined;
  }

  private stored(changed: KubeObject[] | undefined): void {
    const ownerOf = this.opts.ownerOf;
    const owners = changed && ownerOf ? new Set(changed.map((o) => ownerOf(o))) : new Set([undefined]);
    for (const owner of owners) {
      if (owner === undefined) this.changes++;
      else {
        this.ownerChanges.set(owner, (this.ownerChanges.get(owner) ?? 0) + 1);
        this.ownedChanges++;
      }
    }
  }

  /**
   * Grows with every change to any store and every new or dropped watch: equal revisions
   * with `synced` true in between mean every get() answers as it did before.
   */
  get revision(): number {
    return this.changes + this.ownedChanges;
  }

  /**
   * The same for reads of one owner's objects: it grows with changes to objects owned by
   * `owner` (before or after the change) and with every change no owner accounts for.
   */
  revisionFor(owner: string): string {
    return `${this.changes}.${this.ownerChanges.get(owner) ?? 0}`;
  }

  /** True when every tracked kind has synced and its watch is currently up (false after stop()). */
  get synced(): boolean {
    if (this.stopped) return false;
    for (const scopes of this.kinds.values()) for (const r of scopes.values()) if (!r.synced) return false;
    return true;
  }

  stop(): void {
    this.stopped = true;
    for (const scopes of this.kinds.values()) for (const r of scopes.values()) r.stop();
    this.kinds.clear();
  }

  /**
   * Test hook: ends the watches of a kind as if the server had answered 410 Gone (a young
   * test cluster's watch cache still holds every event, so a real 410 cannot be provoked).
   */
  expire(info: ResourceInfo): void {
    for (const r of this.kinds.get(kindKey(info))?.values() ?? []) r.expire();
  }

  private reflectorFor(info: ResourceInfo, namespace: string): Reflector | undefined {
    const scopes = this.kinds.get(kindKey(info));
    if (!scopes) return undefined;
    const all = scopes.get(ALL);
    if (all?.hasListed) return all;
    const r = info.namespaced ? scopes.get(namespace) : undefined;
    return r?.hasListed ? r : undefined;
  }
}
