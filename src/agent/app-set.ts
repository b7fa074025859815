/**
 * The apps the agent runs, changing while it runs: the config file's apps (reloaded when the
 * file changes) and the cluster's App resources. Each origin hands over its whole list; an
 * app whose definition changed is stopped (its reconcile under way finishes) and started
 * anew, one that left is stopped, a new one starts. A name belongs to one app: the config
 * file's app keeps it, and an App resource that claims it too is refused (NameClash).
 */
import type { AppConfig } from '../config/index.ts';
import { canonicalJson } from '../manifests/canonical.ts';
import { Notifications } from '../notify/dispatcher.ts';
import type { LiveTracker } from '../cluster/live.ts';
import { appFromConfig, type App } from '../sync/app.ts';
import type { Connection } from '../sync/pipeline.ts';
import { AppRunner, type AppStatus } from './app-runner.ts';
import type { AuditSink } from './audit-sink.ts';
import type { Destinations } from './destinations.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export type Origin = 'config' | 'resources';

export interface AppDefinition {
  config: AppConfig;
  /** Applies as this ServiceAccount (impersonation); RBAC of its namespace decides what it may write. */
  serviceAccount?: { namespace: string; name: string };
  /** Whatever else the runner was built from (Secret versions): a change restarts it. */
  extra?: string;
  /**
   * What applied objects record as their source (prune deletes only objects that record it).
   * An App resource's is the resource itself, so a change of its path or repository prunes what
   * the old one applied; a config file's app keeps repository + path.
   */
  sourceId?: string;
}

/** The app a definition runs. */
export async function appOf(def: AppDefinition): Promise<App> {
  const app = await appFromConfig(def.config);
  return def.sourceId ? { ...app, sourceId: def.sourceId } : app;
}

export interface AppSetDeps {
  destinations: Destinations;
  audit: AuditSink;
  metrics: Metrics;
  log: Logger;
  mayWrite: () => boolean;
  verifyLease?: () => Promise<void>;
}

interface Entry {
  origin: Origin;
  fingerprint: string;
  runner: AppRunner;
  /** Resolves once the runner this one replaced has stopped. */
  started: Promise<void>;
}

/** Why an app of an origin does not run. */
export interface Refusal {
  name: string;
  message: string;
}

const fingerprintOf = (def: AppDefinition): string => canonicalJson(def);

export class AppSet {
  private readonly deps: AppSetDeps;
  private readonly entries = new Map<string, Entry>();
  private running = false;
  /** Removed apps, until their last reconcile ends. */
  private readonly retired = new Map<string, Promise<void>>();
  /** Serializes updates: each sees the set the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(deps: AppSetDeps) {
    this.deps = deps;
  }

  get(name: string): AppRunner | undefined {
    return this.entries.get(name)?.runner;
  }

  runners(): AppRunner[] {
    return [...this.entries.values()].map((e) => e.runner);
  }

  statuses(): AppStatus[] {
    return this.runners().map((r) => r.status());
  }

  names(origin?: Origin): string[] {
    return [...this.entries].filter(([, e]) => !origin || e.origin === origin).map(([n]) => n);
  }

  /** Starts every runner (leader election off, or this replica became leader). */
  start(): void {
    this.running = true;
    for (const r of this.runners()) r.start();
  }

  /**
   * Makes the origin's apps exactly `defs`. Throws (nothing changed) when an app cannot be
   * built; returns the apps refused because another origin holds their name.
   */
  update(origin: Origin, defs: AppDefinition[]): Promise<Refusal[]> {
    const next = this.queue.then(() => this.apply(origin, defs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async apply(origin: Origin, defs: AppDefinition[]): Promise<Refusal[]> {
    const refused: Refusal[] = [];
    const wanted = new Map<string, AppDefinition>();
    for (const def of defs) {
      const name = def.config.name;
      const holder = this.entries.get(name);
      if (holder && holder.origin !== origin && origin === 'resources') {
        refused.push({ name, message: `app "${name}" is already defined in the agent's config file` });
        continue;
      }
      wanted.set(name, def);
    }
    // Build every new runner before touching the running ones: a bad app changes nothing.
    const built = new Map<string, AppRunner>();
    for (const [name, def] of wanted) {
      const e = this.entries.get(name);
      if (e && e.origin === origin && e.fingerprint === fingerprintOf(def)) continue;
      built.set(name, await this.build(def));
    }
    for (const [name, e] of [...this.entries]) {
      if (e.origin === origin && !wanted.has(name)) {
        this.entries.delete(name);
        this.deps.log.info({ app: name, origin }, 'app removed');
        e.runner.stop();
        this.retired.set(
          name,
          e.started.then(() => e.runner.idle()),
        );
      }
    }
    for (const [name, runner] of built) {
      const before = this.entries.get(name);
      // A config app taking a name from an App resource stops that one.
      before?.runner.stop();
      const started = (before ? before.started.then(() => before.runner.idle()) : Promise.resolve()).then(
        () => {
          if (this.running && this.entries.get(name)?.runner === runner) runner.start();
        },
      );
      this.entries.set(name, { origin, fingerprint: fingerprintOf(wanted.get(name)!), runner, started });
      this.deps.log.info({ app: name, origin }, before ? 'app changed; restarting it' : 'app added');
      if (before && before.origin !== origin)
        refused.push({ name, message: `app "${name}" is now defined in the agent's config file` });
    }
    return origin === 'config' ? [] : refused;
  }

  /** The app's connection: the destination's, acting as the app's ServiceAccount when it names one. */
  async connectionFor(
    app: App,
    def: AppDefinition,
  ): Promise<{ conn: Connection; base: Connection; tracker: LiveTracker }> {
    const { conn: base, tracker } = await this.deps.destinations.for(app);
    const sa = def.serviceAccount;
    const conn: Connection = sa
      ? {
          ...base,
          client: base.client.impersonating(`system:serviceaccount:${sa.namespace}:${sa.name}`, [
            'system:serviceaccounts',
            `system:serviceaccounts:${sa.namespace}`,
          ]),
        }
      : base;
    return { conn, base, tracker };
  }

  /** Resolves once the app's last runner has stopped (a removed app's reconcile under way finishes). */
  async whenStopped(name: string): Promise<void> {
    await this.queue;
    await this.retired.get(name);
  }

  private async build(def: AppDefinition): Promise<AppRunner> {
    const { audit, metrics, log } = this.deps;
    const app = await appOf(def);
    const { conn, base, tracker } = await this.connectionFor(app, def);
    if (app.mode === 'apply') audit.anchorIn(app.name, { conn: base, namespace: app.destination.namespace });
    return new AppRunner({
      app,
      conn,
      tracker,
      audit,
      metrics,
      log,
      mayWrite: this.deps.mayWrite,
      ...(this.deps.verifyLease ? { verifyLease: this.deps.verifyLease } : {}),
      ...(def.config.notifications.length > 0 && {
        notifications: new Notifications({ app: app.name, configs: def.config.notifications, metrics, log }),
      }),
    });
  }

  stop(): void {
    this.running = false;
    for (const r of this.runners()) r.stop();
  }
}
