/**
 * Prometheus metrics of the agent, in a Registry of its own so that tests, embedders and
 * several agents in one process never collide in prom-client's global registry. The names
 * are a contract (DESIGN.md, "Metrics").
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { rendererRuns } from '../render/index.ts';
import type { HealthStatus } from '../health/index.ts';

const HEALTH_STATUSES: readonly HealthStatus[] = [
  'Current',
  'InProgress',
  'Failed',
  'Terminating',
  'NotFound',
  'Unknown',
];

/** Reconciles take from milliseconds (nothing changed) to minutes (first apply of a big app). */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface ApiRequestCount {
  verb: string;
  dryRun: boolean;
  count: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #reconciles: Counter<'app' | 'result'>;
  readonly #duration: Histogram<'app'>;
  readonly #drifted: Gauge<'app'>;
  readonly #lastApplied: Gauge<'app'>;
  readonly #apiRequests: Counter<'verb' | 'dry_run'>;
  readonly #gitRequests: Counter<'app' | 'kind'>;
  readonly #skipped: Counter<'app'>;
  readonly #auditWritable: Gauge;
  readonly #auditHead: Gauge;
  readonly #appErrors: Gauge<'app' | 'kind'>;
  readonly #appHealth: Gauge<'app' | 'status'>;
  readonly #objectHealth: Gauge<'app' | 'status'>;
  readonly #notifications: Counter<'app' | 'notifier' | 'result'>;
  readonly #notifierFailing: Gauge<'app' | 'notifier'>;
  /** Last absolute totals seen by syncApiRequests, by `verb dry_run`. */
  readonly #apiTotals = new Map<string, number>();

  /** `defaultMetrics: false` skips the process metrics (each set installs its own event-loop monitor). */
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.#reconciles = new Counter({
      name: 'tether_reconcile_total',
      help: 'Reconciles finished, by app and result.',
      labelNames: ['app', 'result'] as const,
      registers,
    });
    this.#duration = new Histogram({
      name: 'tether_reconcile_duration_seconds',
      help: 'Wall time of one reconcile, by app.',
      labelNames: ['app'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#drifted = new Gauge({
      name: 'tether_drifted_objects',
      help: 'Objects whose live state differs from Git at the last reconcile, by app.',
      labelNames: ['app'] as const,
      registers,
    });
    this.#lastApplied = new Gauge({
      name: 'tether_last_applied_timestamp_seconds',
      help: 'Unix time of the last successful apply, by app.',
      labelNames: ['app'] as const,
      registers,
    });
    this.#apiRequests = new Counter({
      name: 'tether_api_requests_total',
      help: 'Requests to the Kubernetes API server, by verb and whether they were dry runs.',
      labelNames: ['verb', 'dry_run'] as const,
      registers,
    });
    this.#gitRequests = new Counter({
      name: 'tether_git_requests_total',
      help: 'HTTP requests to Git servers, by app and kind (ls-refs, fetch, ...).',
      labelNames: ['app', 'kind'] as const,
      registers,
    });
    this.#skipped = new Counter({
      name: 'tether_evaluations_skipped_total',
      help: 'Reconciles that skipped the object-by-object evaluation: same commit, and no watch event since a clean one.',
      labelNames: ['app'] as const,
      registers,
    });
    this.#auditWritable = new Gauge({
      name: 'tether_audit_writable',
      help: '1 while the audit log can be appended to; 0 after a failed append (no reconcile writes to the cluster then).',
      registers,
    });
    this.#auditHead = new Gauge({
      name: 'tether_audit_head_seq',
      help: 'seq of the last record in the audit log (compare with the anchor in the cluster).',
      registers,
    });
    this.#appErrors = new Gauge({
      name: 'tether_app_errors',
      help: '1 when the last reconcile of the app met an error of this kind: source (git), cluster (API server), audit (log not writable), commit (refused).',
      labelNames: ['app', 'kind'] as const,
      registers,
    });
    this.#appHealth = new Gauge({
      name: 'tether_app_health',
      help: "1 for the app's health (kstatus words: Current, InProgress, Failed, Terminating, NotFound, Unknown), 0 for the others.",
      labelNames: ['app', 'status'] as const,
      registers,
    });
    this.#objectHealth = new Gauge({
      name: 'tether_object_health',
      help: "The app's objects by health (kstatus words), from the watch cache.",
      labelNames: ['app', 'status'] as const,
      registers,
    });
    this.#notifications = new Counter({
      name: 'tether_notifications_total',
      help: 'Notifications (commit statuses, webhooks, Slack messages) by app, notifier and result: sent, failed (after its retries), dropped (queue full).',
      labelNames: ['app', 'notifier', 'result'] as const,
      registers,
    });
    this.#notifierFailing = new Gauge({
      name: 'tether_notifier_failing',
      help: "1 while the notifier's last send failed (after its retries), 0 once one succeeds.",
      labelNames: ['app', 'notifier'] as const,
      registers,
    });
    let rendersSeen = 0;
    new Counter({
      name: 'tether_renderer_runs_total',
      help: 'Renderer processes (kustomize, helm, commands) started: only a new commit renders.',
      registers,
      collect() {
        const now = rendererRuns();
        if (now > rendersSeen) this.inc(now - rendersSeen);
        rendersSeen = now;
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  recordReconcile(app: string, result: string, seconds: number): void {
    this.#reconciles.inc({ app, result });
    this.#duration.observe({ app }, seconds);
  }

  setHealth(app: string, status: HealthStatus, objects: readonly HealthStatus[]): void {
    for (const s of HEALTH_STATUSES) {
      this.#appHealth.set({ app, status: s }, s === status ? 1 : 0);
      this.#objectHealth.set({ app, status: s }, objects.filter((o) => o === s).length);
    }
  }

  recordSkippedEvaluation(app: string): void {
    this.#skipped.inc({ app });
  }

  setDrifted(app: string, n: number): void {
    this.#drifted.set({ app }, n);
  }

  setLastApplied(app: string, date: Date): void {
    this.#lastApplied.set({ app }, date.getTime() / 1000);
  }

  /**
   * Takes the API client's absolute request totals and adds what grew since the last call,
   * since a Prometheus counter only goes up. A total below the last one means the client
   * was replaced and counts from zero again, so all of it is new.
   */
  syncApiRequests(counts: ApiRequestCount[]): void {
    for (const { verb, dryRun, count } of counts) {
      const dry_run = String(dryRun);
      const key = `${verb} ${dry_run}`;
      const last = this.#apiTotals.get(key) ?? 0;
      const increase = count >= last ? count - last : count;
      this.#apiTotals.set(key, count);
      if (increase > 0) this.#apiRequests.inc({ verb, dry_run }, increase);
    }
  }

  setAudit(writable: boolean, headSeq: number): void {
    this.#auditWritable.set(writable ? 1 : 0);
    this.#auditHead.set(headSeq);
  }

  /** The kinds of error the app's last reconcile met (each kind present is 1, the others 0). */
  setAppErrors(app: string, kinds: readonly string[]): void {
    for (const kind of ['source', 'cluster', 'audit', 'commit'])
      this.#appErrors.set({ app, kind }, kinds.includes(kind) ? 1 : 0);
  }

  recordNotification(app: string, notifier: string, result: 'sent' | 'failed' | 'dropped'): void {
    this.#notifications.inc({ app, notifier, result });
  }

  setNotifierFailing(app: string, notifier: string, failing: boolean): void {
    this.#notifierFailing.set({ app, notifier }, failing ? 1 : 0);
  }

  incGit(app: string, kind: string): void {
    this.#gitRequests.inc({ app, kind });
  }

  /** Drops an app's series once it is removed from the config, so dashboards stop showing it. */
  async forgetApp(app: string): Promise<void> {
    for (const metric of [this.#drifted, this.#lastApplied, this.#duration]) metric.remove({ app });
    for (const kind of ['source', 'cluster', 'audit', 'commit']) this.#appErrors.remove({ app, kind });
    await Promise.all([
      removeWhereApp(this.#reconciles, app),
      removeWhereApp(this.#gitRequests, app),
      removeWhereApp(this.#notifications, app),
      removeWhereApp(this.#notifierFailing, app),
    ]);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

async function removeWhereApp<T extends string>(
  metric: Counter<T | 'app'> | Gauge<T | 'app'>,
  app: string,
): Promise<void> {
  const { values } = await metric.get();
  for (const { labels } of values) if (labels['app'] === app) metric.remove(labels);
}
