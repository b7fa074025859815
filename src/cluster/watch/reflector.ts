/**
 * One LIST+WATCH loop: keeps the objects of one kind (in one namespace, or all) in a map and
 * never gives up until stopped. Unlike the @kubernetes/client-node informer, every failure
 * leads to a retry: a clean end or a network error re-watches from the last resourceVersion
 * seen, a 410 Gone relists and reports what changed while the watch was away.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../apply.ts';
import type { KubeClient } from '../client.ts';
import { resourcePath, type ResourceInfo } from '../discovery.ts';
import { ApiStatusError } from '../errors.ts';
import { Backoff } from './backoff.ts';
import { WatchGoneError, WatchStoppedError } from './errors.ts';
import { ObjectStore } from './store.ts';
import { openWatch } from './stream.ts';
import type { ChangeEvent, LogFn } from './types.ts';

export interface ReflectorOptions {
  info: ResourceInfo;
  /** Undefined: all namespaces (and cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: string;
  onChange?: (ev: ChangeEvent) => void;
  /**
   * Called after every change to the store: with the object before and after for a watch
   * event, with nothing for a relist that replaced it (anything may have changed).
   */
  onStore?: (changed?: KubeObject[]) => void;
  log?: LogFn;
  pageSize?: number;
  /** Server-side watch timeout; each watch adds up to 10% jitter so watches don't restart together. */
  watchTimeoutSeconds?: number;
}

interface ListPage {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

/** Watches shorter than this that end "cleanly" still count as failures for the backoff. */
const MIN_HEALTHY_WATCH_MS = 1_000;

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata.namespace, obj.metadata.name);
}

/** Fatal before the first sync only: retrying will not fix a wrong kind or missing permission. */
function isFatalStatus(e: unknown): boolean {
  return (
    e instanceof ApiStatusError && e.status >= 400 && e.status < 500 && e.status !== 410 && e.status !== 429
  );
}

export class Reflector {
  readonly store = new ObjectStore();
  /** Resolves once the first LIST is in memory and the watch after it is up; rejects if
   * either is refused for good (unknown resource, no permission). */
  readonly ready: Promise<void>;
  private readonly client: KubeClient;
  private readonly opts: ReflectorOptions;
  private readonly stopper = new AbortController();
  private current: AbortController | undefined;
  private resourceVersion: string | undefined;
  private expired = false;
  private listed = false;
  private up = false;
  private isReady = false;
  /** When the current watch was opened; 0 while none is open. */
  private openedAt = 0;
  private markReady!: () => void;
  private failReady!: (e: unknown) => void;

  constructor(client: KubeClient, opts: ReflectorOptions) {
    this.client = client;
    this.opts = opts;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // The owner may drop its reference to `ready` (track() is idempotent): never unhandled.
    this.ready.catch(() => {});
  }

  start(): void {
    void this.run();
  }

  /** Listed at least once, and not currently failing to watch. */
  get synced(): boolean {
    return this.listed && this.up;
  }

  get hasListed(): boolean {
    return this.listed;
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopper.abort();
    this.up = false;
    this.failReady(new WatchStoppedError(`stopped watching ${this.describe()}`));
  }

  /** Ends the current watch as if the server had answered 410 Gone: the reflector relists. */
  expire(): void {
    this.expired = true;
    this.current?.abort();
  }

  private describe(): string {
    const { info, namespace } = this.opts;
    const gk = info.group ? `${info.kind}.${info.group}` : info.kind;
    return namespace ? `${gk} in namespace ${namespace}` : gk;
  }

  private log(level: Parameters<LogFn>[0], msg: string, fields: Record<string, unknown> = {}): void {
    this.opts.log?.(level, msg, { kind: this.opts.info.kind, namespace: this.opts.namespace, ...fields });
  }

  private emit(type: ChangeEvent['type'], object: KubeObject): void {
    if (!this.opts.onChange) return;
    try {
      this.opts.onChange({ type, info: this.opts.info, object });
    } catch (e) {
      this.log('error', 'watch cache change handler failed', { error: (e as Error).message });
    }
  }

  private async run(): Promise<void> {
    const backoff = new Backoff();
    while (!this.stopped) {
      const started = Date.now();
      this.openedAt = 0;
      try {
        if (this.expired) {
          this.expired = false;
          throw new WatchGoneError('watch expired (forced)');
        }
        if (this.resourceVersion === undefined) await this.relist();
        await this.watch(backoff);
        // A clean end (server timeout): re-watch at once, unless it keeps ending at once.
        if (!this.expired && Date.now() - started < MIN_HEALTHY_WATCH_MS) await this.pause(backoff.next());
      } catch (e) {
        if (this.stopped) break;
        this.up = false;
        if (e instanceof WatchGoneError || (e instanceof ApiStatusError && e.status === 410)) {
          this.log('info', 'watch expired (410 Gone): relisting', { resourceVersion: this.resourceVersion });
          this.resourceVersion = undefined;
          continue;
        }
        if (!this.isReady && isFatalStatus(e)) {
          this.log('error', `cannot list ${this.describe()}`, { error: (e as Error).message });
          this.failReady(e);
          this.stop();
          break;
        }
        // A watch that worked for a while before breaking starts the backoff afresh.
        if (this.openedAt && Date.now() - this.openedAt >= MIN_HEALTHY_WATCH_MS) backoff.reset();
        const delay = backoff.next();
        this.log('warn', `watch of ${this.describe()} failed; retrying`, {
          error: (e as Error).message,
          retryInMs: delay,
        });
        await this.pause(delay);
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopper.signal }).catch(() => {});
  }

  private collectionPath(): string {
    const { info, namespace } = this.opts;
    // All namespaces: the collection path without the /namespaces/<ns> segment.
    return namespace === undefined
      ? resourcePath({ ...info, namespaced: false }, '')
      : resourcePath(info, namespace);
  }

  /** Paginated LIST; replaces the store and, after the first time, reports the differences. */
  private async relist(): Promise<void> {
    const { info } = this.opts;
    const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    const next = new Map<string, KubeObject>();
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.client.request<ListPage>({
        method: 'GET',
        verb: 'list',
        path: this.collectionPath(),
        query: {
          limit: String(this.opts.pageSize ?? 500),
          continue: cont,
          labelSelector: this.opts.labelSelector,
        },
      });
      for (const item of page.items ?? []) {
        // List items come without apiVersion/kind; watch events have them. Keep both alike.
        item.apiVersion ??= apiVersion;
        item.kind ??= info.kind;
        next.set(keyOf(item), item);
      }
      rv = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (this.stopped) return;
    const first = !this.listed;
    if (!first) {
      for (const [key, obj] of next) {
        if (!this.store.has(key)) this.emit('ADDED', obj);
        else if (this.store.resourceVersion(key) !== obj.metadata.resourceVersion) this.emit('MODIFIED', obj);
      }
      for (const key of [...this.store.keys()])
        if (!next.has(key)) this.emit('DELETED', this.store.get(key)!);
    }
    this.store.replace(next);
    this.opts.onStore?.();
    this.resourceVersion = rv;
    this.listed = true;
    this.log('debug', `listed ${this.describe()}`, { objects: this.store.size, resourceVersion: rv });
  }

  /** Watches until the stream ends, or until expire() ends it. */
  private async watch(backoff: Backoff): Promise<void> {
    const current = new AbortController();
    this.current = current;
    try {
      await this.consume(current.signal, backoff);
    } catch (e) {
      if (current.signal.aborted && !this.stopped) return;
      throw e;
    } finally {
      this.current = undefined;
    }
  }

  private async consume(resume: AbortSignal, backoff: Backoff): Promise<void> {
    const signal = AbortSignal.any([this.stopper.signal, resume]);
    const base = this.opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.round(base * (1 + Math.random() * 0.1));
    const events = await openWatch(
      this.client,
      this.collectionPath(),
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
        labelSelector: this.opts.labelSelector,
      },
      // The server ends the watch after timeoutSeconds; silence well past that means a dead peer.
      { signal, idleTimeoutMs: (timeoutSeconds + 30) * 1000 },
    );
    this.up = true;
    this.openedAt = Date.now();
    if (!this.isReady) {
      this.isReady = true;
      this.markReady();
    }
    for await (const ev of events) {
      if (resume.aborted) throw resume.reason;
      const obj = ev.object as KubeObject;
      const rv = obj.metadata?.resourceVersion;
      if (ev.type === 'BOOKMARK') {
        if (rv) this.resourceVersion = rv;
        backoff.reset();
        continue;
      }
      const key = keyOf(obj);
      const before = this.store.get(key);
      if (ev.type === 'DELETED') this.store.delete(key);
      else this.store.set(key, obj);
      this.opts.onStore?.(before ? [before, obj] : [obj]);
      if (rv) this.resourceVersion = rv;
      backoff.reset();
      this.emit(ev.type, obj);
    }
  }
}
