/**
 * The cluster's App resources (apps.tether.dev) as running apps: a controller in the
 * Kubernetes sense. One LIST+WATCH of Apps (every namespace, or a label selector to shard
 * apps over agents); every change resyncs the whole set, level-triggered:
 * - a valid App runs (its Secrets written as private files, its ServiceAccount impersonated);
 *   a changed one restarts at once, a deleted one stops;
 * - an invalid one, or one whose name another app holds, runs nothing and says why in its
 *   status (Ready False, Stalled True);
 * - `spec.prune: true` puts a finalizer on the App; deleting it then prunes exactly the app's
 *   objects (prune-app.ts) before the finalizer goes;
 * - a new value of the tether.dev/reconcile-requested-at annotation reconciles now.
 * Statuses are written through the status subresource only when they say something new, and
 * only by the replica that holds the lease. Nothing lives only in memory: after a restart the
 * Apps, their status, the inventories and the audit log are all there is, and all it needs.
 */
import type { KubeClient } from '../cluster/client.ts';
import type { Discovery } from '../cluster/discovery.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { WatchCache } from '../cluster/watch-cache.ts';
import { redactUrl } from '../errors.ts';
import type { AppConfig } from '../config/index.ts';
import {
  APP_GROUP,
  APP_INFO,
  APP_RESOURCE,
  APP_KIND,
  APP_VERSION,
  PRUNE_FINALIZER,
  RECONCILE_ANNOTATION,
  resourceKey,
  type AppResource,
  type AppResourceStatus,
} from '../apps/resource.ts';
import type { AppSecrets } from '../apps/secrets.ts';
import { SecretReadError, type MaterializedSecrets } from '../apps/secrets.ts';
import { appResourceStatus, statusChanged, type AppProblem } from '../apps/status.ts';
import { appConfigOf } from '../apps/to-config.ts';
import { appOf, type AppDefinition, type AppSet } from './app-set.ts';
import type { AuditSink } from './audit-sink.ts';
import type { Logger } from './logger.ts';
import { pruneApp } from './prune-app.ts';

export interface AppResourcesDeps {
  client: KubeClient;
  discovery: Discovery;
  apps: AppSet;
  audit: AuditSink;
  secrets: AppSecrets;
  log: Logger;
  mayWrite: () => boolean;
  verifyLease?: () => Promise<void>;
  labelSelector?: string;
}

/** Changes settle this long before a resync (a burst of events is one resync). */
const RESYNC_DELAY_MS = 50;
/** Statuses are compared with the apps' state this often. */
const STATUS_EVERY_MS = 1_000;
/** A full resync this often: Secrets are re-read, failed prunes retried. */
const FULL_RESYNC_MS = 5 * 60_000;
/** How often a missing CRD is looked for again. */
const CRD_RETRY_MS = 30_000;

export class AppResources {
  private readonly d: AppResourcesDeps;
  private readonly cache: WatchCache;
  private readonly log: Logger;
  private readonly problems = new Map<string, AppProblem>();
  /** The reconcile annotation value acted on, by App key. */
  private readonly handled = new Map<string, string>();
  /** The value whose reconcile has finished (status.lastHandledReconcileAt), by App key. */
  private readonly done = new Map<string, string>();
  /** A requested reconcile under way: the value, and the app's reconcile count when it was asked. */
  private readonly requested = new Map<string, { value: string; before: number }>();
  /** What was written (or read) as each App's status. */
  private readonly written = new Map<string, AppResourceStatus>();
  /** Secrets of each App, by the App's generation they were read for. */
  private readonly secretsRead = new Map<string, { version: string; secrets: MaterializedSecrets }>();
  /** Which App runs each app name. */
  private readonly keyOf = new Map<string, string>();
  private readonly finalizing = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> = Promise.resolve();
  private stopped = false;
  private synced = false;

  constructor(deps: AppResourcesDeps) {
    this.d = deps;
    this.log = deps.log.child({ component: 'apps' });
    this.cache = new WatchCache(deps.client, {
      ...(deps.labelSelector ? { labelSelector: deps.labelSelector } : {}),
      onChange: () => this.scheduleResync(),
      log: (level, msg, fields) => this.log[level]({ ...fields }, msg),
    });
  }

  /** True once the Apps were listed and turned into apps (or the CRD is not installed). */
  get ready(): boolean {
    return this.synced;
  }

  /** Starts watching Apps; when the CRD is not installed yet, looks for it every 30 s. */
  async start(): Promise<void> {
    if (!(await this.crdServed())) {
      this.log.warn(
        'the App CRD (apps.tether.dev) is not installed: no App resources run until it is (tether install-crds)',
      );
      this.synced = true;
      const retry = setInterval(() => {
        void this.crdServed().then(async (served) => {
          if (!served || this.stopped) return;
          clearInterval(retry);
          await this.watch().catch((e: unknown) => this.log.error({ err: String(e) }, 'cannot watch Apps'));
        });
      }, CRD_RETRY_MS);
      retry.unref();
      this.timers.push(retry);
      return;
    }
    await this.watch();
  }

  private async crdServed(): Promise<boolean> {
    try {
      return (await this.d.discovery.lookup(APP_GROUP, APP_VERSION, APP_KIND)) !== undefined;
    } catch {
      return false;
    }
  }

  private async watch(): Promise<void> {
    await this.cache.track(APP_INFO);
    this.log.info(
      { labelSelector: this.d.labelSelector ?? '' },
      `watching App resources${this.d.labelSelector ? ` labelled ${this.d.labelSelector}` : ''}`,
    );
    await this.resyncAll(true);
    this.synced = true;
    const statuses = setInterval(() => void this.writeStatuses(), STATUS_EVERY_MS);
    const full = setInterval(() => this.scheduleResync(true), FULL_RESYNC_MS);
    statuses.unref();
    full.unref();
    this.timers.push(statuses, full);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.cache.stop();
  }

  /** Resyncs soon (after a config reload, or on becoming leader). */
  resync(): void {
    this.scheduleResync();
  }

  private scheduleResync(full = false): void {
    if (this.stopped) return;
    if (full) this.secretsRead.clear();
    if (this.resyncTimer) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.resyncing = this.resyncing
        .then(() => this.resyncAll(false))
        .catch((e: unknown) => {
          this.log.error({ err: redactUrl(String(e)) }, 'resync of App resources failed; retrying');
          setTimeout(() => this.scheduleResync(), 5_000).unref();
        });
    }, RESYNC_DELAY_MS);
  }

  private list(): AppResource[] {
    const items = this.cache.list(APP_INFO) as unknown as AppResource[];
    // The oldest App keeps a contested name.
    return items.sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        resourceKey(a).localeCompare(resourceKey(b)),
    );
  }

  private async resyncAll(first: boolean): Promise<void> {
    const items = this.list();
    const defs: AppDefinition[] = [];
    const present = new Set<string>();
    const nameHolder = new Map<string, string>();
    for (const r of items) {
      const key = resourceKey(r);
      present.add(key);
      if (first && r.status) this.written.set(key, r.status);
      if (!this.handled.has(key) && r.status?.lastHandledReconcileAt) {
        this.handled.set(key, r.status.lastHandledReconcileAt);
        this.done.set(key, r.status.lastHandledReconcileAt);
      }
      if (r.metadata.deletionTimestamp) continue;
      await this.keepFinalizer(r);
      this.problems.delete(key);
      const holder = nameHolder.get(r.metadata.name);
      if (holder) {
        this.problems.set(key, {
          reason: 'NameClash',
          message: `App ${holder} already runs an app named "${r.metadata.name}": app names are unique across namespaces; rename one`,
        });
        continue;
      }
      nameHolder.set(r.metadata.name, key);
      const def = await this.definition(r, key);
      if (def) defs.push(def);
    }
    const refused = await this.d.apps.update('resources', defs);
    this.keyOf.clear();
    for (const def of defs) this.keyOf.set(def.config.name, nameHolder.get(def.config.name)!);
    for (const r of refused) {
      const key = this.keyOf.get(r.name);
      if (key) this.problems.set(key, { reason: 'NameClash', message: r.message });
      this.keyOf.delete(r.name);
    }
    for (const r of items) {
      if (r.metadata.deletionTimestamp) void this.finalize(r);
      else this.honourReconcileRequest(r);
    }
    for (const key of [...this.written.keys()])
      if (!present.has(key)) {
        this.written.delete(key);
        this.handled.delete(key);
        this.done.delete(key);
        this.requested.delete(key);
        this.problems.delete(key);
        this.secretsRead.delete(key);
      }
    await this.writeStatuses();
  }

  /** The App as an app to run, or undefined with its problem recorded. */
  private async definition(r: AppResource, key: string): Promise<AppDefinition | undefined> {
    let secrets: MaterializedSecrets;
    try {
      secrets = await this.secretsOf(r, key);
    } catch (e) {
      if (!(e instanceof SecretReadError)) throw e;
      this.problems.set(key, { reason: 'SecretError', message: e.message });
      return undefined;
    }
    const checked = appConfigOf(r, secrets.fileOf);
    if (checked.problems) {
      this.problems.set(key, { reason: 'InvalidSpec', message: checked.problems.join('; ') });
      return undefined;
    }
    return { ...definitionOf(r, checked.app), extra: secrets.versions };
  }

  private async secretsOf(r: AppResource, key: string): Promise<MaterializedSecrets> {
    // By generation: a status write (a new resourceVersion) does not re-read the Secrets.
    const version = String(r.metadata.generation ?? r.metadata.resourceVersion ?? '');
    const known = this.secretsRead.get(key);
    if (known?.version === version) return known.secrets;
    const secrets = await this.d.secrets.materialize(this.d.client, r);
    this.secretsRead.set(key, { version, secrets });
    return secrets;
  }

  private honourReconcileRequest(r: AppResource): void {
    const key = resourceKey(r);
    const requested = r.metadata.annotations?.[RECONCILE_ANNOTATION];
    if (!requested || this.handled.get(key) === requested) return;
    const runner = this.keyOf.get(r.metadata.name) === key ? this.d.apps.get(r.metadata.name) : undefined;
    this.handled.set(key, requested);
    if (!runner) {
      // Nothing runs (invalid, suspended by a problem): the request is answered by the status as it is.
      this.done.set(key, requested);
      return;
    }
    this.log.info({ app: r.metadata.name, requested }, 'reconcile requested');
    this.requested.set(key, { value: requested, before: runner.status().reconciles });
    runner.trigger('manual');
  }

  /** The prune finalizer is on an App exactly while it says `spec.prune: true`. */
  private async keepFinalizer(r: AppResource): Promise<void> {
    if (!this.d.mayWrite()) return;
    const has = (r.metadata.finalizers ?? []).includes(PRUNE_FINALIZER);
    const wants = r.spec?.prune === true;
    if (has === wants) return;
    const finalizers = wants
      ? [...(r.metadata.finalizers ?? []), PRUNE_FINALIZER]
      : (r.metadata.finalizers ?? []).filter((f) => f !== PRUNE_FINALIZER);
    await this.patchFinalizers(r, finalizers);
  }

  private async patchFinalizers(r: AppResource, finalizers: string[]): Promise<void> {
    // The test makes a concurrent change to the list fail instead of being overwritten.
    const ops = [
      ...(r.metadata.finalizers
        ? [{ op: 'test', path: '/metadata/finalizers', value: r.metadata.finalizers }]
        : []),
      { op: r.metadata.finalizers ? 'replace' : 'add', path: '/metadata/finalizers', value: finalizers },
    ];
    try {
      await this.d.client.request({
        method: 'PATCH',
        path: appPath(r),
        contentType: 'application/json-patch+json',
        body: ops,
      });
    } catch (e) {
      if (e instanceof ApiStatusError && (e.status === 404 || e.status === 409 || e.status === 422)) {
        this.scheduleResync();
        return;
      }
      throw e;
    }
  }

  /** A deleted App with the prune finalizer: its runner stops, its objects are pruned, the finalizer goes. */
  private async finalize(r: AppResource): Promise<void> {
    const key = resourceKey(r);
    if (!(r.metadata.finalizers ?? []).includes(PRUNE_FINALIZER)) return;
    if (!this.d.mayWrite() || this.finalizing.has(key)) return;
    this.finalizing.add(key);
    const log = this.log.child({ app: r.metadata.name });
    try {
      await this.d.apps.whenStopped(r.metadata.name);
      // Credentials are not needed to prune: what to delete is in the cluster's inventory.
      const { notifications: _, ...spec } = r.spec ?? {};
      const checked = appConfigOf({ ...r, spec }, () => undefined);
      if (checked.problems) {
        log.warn(
          { problems: checked.problems },
          'deleted App has an invalid spec; its objects are left in place',
        );
      } else {
        const def = definitionOf(r, {
          ...checked.app,
          source: { ...checked.app.source, verify: { mode: 'off' } },
        });
        const app = await appOf(def);
        const { conn } = await this.d.apps.connectionFor(app, def);
        const result = await pruneApp({
          app,
          conn,
          audit: this.d.audit,
          lastCommit: r.status?.lastAppliedCommit,
          mayWrite: this.d.mayWrite,
          ...(this.d.verifyLease ? { verifyLease: this.d.verifyLease } : {}),
        });
        if (result.failures.length > 0) {
          log.error({ failures: result.failures }, 'pruning a deleted App failed; retrying');
          setTimeout(() => this.scheduleResync(), 10_000).unref();
          return;
        }
        log.info({ deleted: result.deleted }, 'deleted App: its objects are pruned');
      }
      await this.patchFinalizers(
        r,
        (r.metadata.finalizers ?? []).filter((f) => f !== PRUNE_FINALIZER),
      );
      await this.d.secrets.remove(r);
    } catch (e) {
      log.error({ err: redactUrl(String(e)) }, 'finalizing a deleted App failed; retrying');
      setTimeout(() => this.scheduleResync(), 10_000).unref();
    } finally {
      this.finalizing.delete(key);
    }
  }

  /** Writes each App's status that says something new (leader only). */
  private async writeStatuses(): Promise<void> {
    if (!this.d.mayWrite() || this.stopped) return;
    const now = new Date().toISOString();
    for (const r of this.cache.list(APP_INFO) as unknown as AppResource[]) {
      if (r.metadata.deletionTimestamp) continue;
      const key = resourceKey(r);
      const problem = this.problems.get(key);
      const runs = this.keyOf.get(r.metadata.name) === key;
      const app = runs ? this.d.apps.get(r.metadata.name)?.status() : undefined;
      // A request is handled once the reconcile it asked for has finished: `tether reconcile` waits for that.
      const asked = this.requested.get(key);
      if (asked && app && (app.reconciles > asked.before || app.state === 'suspended')) {
        this.done.set(key, asked.value);
        this.requested.delete(key);
      }
      const handledReconcileAt = this.done.get(key);
      // After a restart the status written before stays until the app has reconciled once:
      // a restart is not news, and what it said (commits, health) is still the best known.
      if (!problem && r.status?.conditions && app && app.reconciles === 0 && app.state === 'pending')
        continue;
      const status = appResourceStatus({
        resource: r,
        ...(app ? { app } : {}),
        ...(problem ? { problem } : {}),
        ...(handledReconcileAt ? { handledReconcileAt } : {}),
        now,
      });
      const before = this.written.get(key) ?? r.status;
      if (!statusChanged(before, status)) continue;
      // A merge patch keeps keys it does not name: the ones that no longer apply are nulled.
      const cleared = Object.fromEntries(
        Object.keys(before ?? {})
          .filter((k) => !(k in status))
          .map((k) => [k, null]),
      );
      try {
        await this.d.client.request({
          method: 'PATCH',
          path: `${appPath(r)}/status`,
          contentType: 'application/merge-patch+json',
          body: { status: { ...cleared, ...status } },
        });
        this.written.set(key, status);
      } catch (e) {
        if (e instanceof ApiStatusError && e.status === 404) continue;
        this.log.warn({ app: r.metadata.name, err: redactUrl(String(e)) }, 'cannot write the App status');
      }
    }
  }
}

/** What an App runs as: its ServiceAccount, and the App itself as the source its objects record. */
function definitionOf(r: AppResource, config: AppConfig): AppDefinition {
  const sa = r.spec?.serviceAccountName;
  return {
    config,
    ...(sa ? { serviceAccount: { namespace: r.metadata.namespace, name: sa } } : {}),
    sourceId: `${APP_RESOURCE}.${APP_GROUP}/${r.metadata.namespace}/${r.metadata.name}`,
  };
}

function appPath(r: AppResource): string {
  return `/apis/${APP_GROUP}/${APP_VERSION}/namespaces/${encodeURIComponent(r.metadata.namespace)}/apps/${encodeURIComponent(r.metadata.name)}`;
}
