/**
 * One app in the agent: level-triggered reconciles on every interval (with jitter) and every
 * trigger (webhook, watch event), serialized so two never overlap. Each reconcile compares
 * what Git wants with what the cluster has and converges (apply mode) or reports (report
 * mode). It keeps no state it cannot rebuild from Git and the cluster: what it remembers
 * (the loaded commit, dry-run results) only saves requests.
 */
import type { AuditLog, AuditTrigger } from '../audit/index.ts';
import type { ResourceInfo } from '../cluster/discovery.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import type { AppConfig } from '../config/index.ts';
import { redactUrl, TetherError } from '../errors.ts';
import { GitPoller, type CommitInfo, type PollResult } from '../source/index.ts';
import { DryRunCache } from '../sync/dry-run-cache.ts';
import { applyCommit, DEFAULT_SETTINGS } from '../sync/execute.ts';
import { describeCommit, loadCommit, planFor, type AppTarget, type Connection } from '../sync/pipeline.ts';
import type { PlannedObject } from '../sync/plan.ts';
import { reportDrift } from '../sync/report.ts';
import type { ObjectResult } from '../sync/result.ts';
import { auditCommit, auditInput, revertOf } from '../sync/to-audit.ts';
import { compactSoon } from './compact.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export type AppState = 'pending' | 'in-sync' | 'drifted' | 'conflict' | 'error' | 'suspended';

export interface AppStatus {
  name: string;
  source: string;
  ref: string | null;
  path: string;
  mode: 'apply' | 'report';
  state: AppState;
  lastSeenCommit: string | null;
  lastAppliedCommit: string | null;
  lastError: string | null;
  lastReconcileAt: string | null;
  nextPollAt: string | null;
  driftedObjects: number;
  reconciles: number;
}

/** What the runner needs from the watch cache (src/cluster/watch-cache.ts). */
export interface LiveTracker {
  track(info: ResourceInfo, namespaces?: string[]): Promise<void>;
  /**
   * Changes whenever a live read may answer differently than before (an object changed, a
   * watch was added, a read missed the cache); undefined while a watch is down.
   */
  version(): string | undefined;
}

/** A full evaluation at least this often, even when nothing announced a change. */
export const RESYNC_MS = 10 * 60_000;

/** What a clean reconcile saw; an equal state later means evaluating again would find the same. */
interface Settled {
  /** The commit the poll saw (a refused one included: its error stays reported). */
  sha: string;
  plan: PlannedObject[];
  version: string;
  result: string;
  at: number;
}

export interface AppRunnerDeps {
  app: AppConfig;
  target: AppTarget;
  conn: Connection;
  tracker: LiveTracker;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  /** False on a standby replica: it must not write. */
  mayWrite: () => boolean;
}

const DRIFT_STATES = new Set(['drifted', 'missing', 'orphaned', 'conflict']);
/** A reconcile that sent this many requests allocated enough to be worth a collection. */
const BURST_REQUESTS = 100;
const WRITES = new Set(['created', 'configured', 'pruned']);

function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

export class AppRunner {
  private readonly d: AppRunnerDeps;
  private readonly poller: GitPoller;
  private readonly dryRuns = new DryRunCache();
  /** The commit in force and its plan; the files themselves are not kept. */
  private loaded: { commit: CommitInfo; plan: PlannedObject[] } | undefined;
  private refusedSha: string | undefined;
  /** Why the newest commit was refused; the app reports error until a good commit comes. */
  private refusedError: string | undefined;
  private running: Promise<void> | undefined;
  private pending: AuditTrigger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastFingerprint: string | undefined;
  private lastWasFinding = false;
  private settled: Settled | undefined;
  private quiet = false;
  private readonly st: AppStatus;

  constructor(deps: AppRunnerDeps) {
    this.d = deps;
    this.poller = new GitPoller({
      ...deps.target.source,
      onRequest: (kind) => deps.metrics.incGit(deps.app.name, kind),
    });
    this.st = {
      name: deps.app.name,
      source: this.poller.describe(),
      ref: deps.app.source.ref ?? null,
      path: deps.target.path || '.',
      mode: deps.app.sync.mode,
      state: deps.app.sync.suspend ? 'suspended' : 'pending',
      lastSeenCommit: null,
      lastAppliedCommit: null,
      lastError: null,
      lastReconcileAt: null,
      nextPollAt: null,
      driftedObjects: 0,
      reconciles: 0,
    };
  }

  get name(): string {
    return this.d.app.name;
  }

  status(): AppStatus {
    return { ...this.st };
  }

  start(): void {
    if (this.d.app.sync.suspend) return;
    this.trigger('poll');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Waits for the reconcile under way, if any (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Starts a reconcile now, or right after the one under way. */
  trigger(reason: AuditTrigger): void {
    if (this.stopped || this.d.app.sync.suspend) return;
    if (this.running) {
      this.pending = this.pending ?? reason;
      return;
    }
    this.running = this.reconcile(reason).finally(() => {
      this.running = undefined;
      const next = this.pending;
      this.pending = undefined;
      if (next) this.trigger(next);
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = jitter(this.d.app.source.intervalMs);
    this.st.nextPollAt = new Date(Date.now() + delay).toISOString();
    this.timer = setTimeout(() => this.trigger('poll'), delay);
    this.timer.unref();
  }

  private async reconcile(trigger: AuditTrigger): Promise<void> {
    // A standby replica watches the lease, not Git: only the leader reconciles.
    if (!this.d.mayWrite()) {
      this.schedule();
      return;
    }
    const started = process.hrtime.bigint();
    const requestsBefore = this.requestTotal();
    const planBefore = this.loaded?.plan;
    const { app, metrics } = this.d;
    let log = this.d.log.child({ app: app.name });
    let result = 'error';
    try {
      const poll = await this.poller.poll();
      this.st.lastSeenCommit = poll.sha;
      log = log.child({ commit: poll.sha.slice(0, 12) });
      if (poll.rewrite)
        log.warn({ rewrite: poll.rewrite, previous: poll.previous }, `history rewritten: ${poll.rewrite}`);
      const current = await this.current(poll, log);
      if (!current) {
        // Nothing was ever applied and the first commit is refused.
        this.st.state = 'error';
        this.st.lastError = this.refusedError ?? null;
        result = 'commit-refused';
        return;
      }
      const version = this.d.tracker.version();
      const s = this.settled;
      if (
        s &&
        version !== undefined &&
        s.version === version &&
        s.sha === poll.sha &&
        s.plan === current.plan &&
        Date.now() - s.at < RESYNC_MS
      ) {
        // Same commit, same plan, and no watch event since a clean reconcile: the evaluation
        // would repeat itself object by object. The watch is what makes this safe; RESYNC_MS
        // bounds the trust placed in it.
        result = s.result;
        metrics.recordSkippedEvaluation(app.name);
        return;
      }
      this.settled = undefined;
      result = await this.converge(current.commit, current.plan, trigger, log);
      const after = this.d.tracker.version();
      if (version !== undefined && after === version && this.quiet)
        this.settled = { sha: poll.sha, plan: current.plan, version, result, at: Date.now() };
    } catch (e) {
      result = 'error';
      await this.fail(e, trigger, log);
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.st.reconciles++;
      this.st.lastReconcileAt = new Date().toISOString();
      metrics.recordReconcile(app.name, result, seconds);
      metrics.syncApiRequests(this.d.conn.client.requestCounts());
      if (this.loaded?.plan !== planBefore || this.requestTotal() - requestsBefore >= BURST_REQUESTS)
        compactSoon();
      this.schedule();
    }
  }

  private requestTotal(): number {
    return this.d.conn.client.requestCounts().reduce((n, c) => n + c.count, 0);
  }

  /** The commit to reconcile: the new one if it loads and validates, else the one in force. */
  private async current(
    poll: PollResult,
    log: Logger,
  ): Promise<{ commit: CommitInfo; plan: PlannedObject[] } | undefined> {
    if (this.loaded?.commit.sha === poll.sha) {
      // Same commit: re-plan only if discovery learnt new kinds since (cheap, no request).
      return this.loaded;
    }
    if (this.refusedSha === poll.sha) return this.loaded;
    try {
      const loaded = await loadCommit(this.d.target, poll.sha);
      const plan = planFor(this.d.target, loaded, this.d.conn);
      this.loaded = { commit: loaded.snapshot.commit, plan };
      this.refusedSha = undefined;
      this.refusedError = undefined;
      log.info({ objects: plan.length }, 'loaded new commit');
      await this.trackKinds(plan);
      return this.loaded;
    } catch (e) {
      if (!(e instanceof TetherError)) throw e;
      // A bad commit never replaces the one in force; say so once per commit.
      this.refusedSha = poll.sha;
      this.refusedError = `commit ${poll.sha.slice(0, 7)} refused: ${redactUrl(e.message)}`;
      log.error({ err: redactUrl(e.message) }, 'commit refused; the previous commit stays in force');
      const refused = await describeCommit(this.d.target, poll.sha);
      await this.d.audit.append({
        app: this.d.app.name,
        commit: refused ? auditCommit(refused) : null,
        ...(refused ? {} : { details: { sha: poll.sha } }),
        trigger: 'poll',
        mode: this.d.app.sync.mode,
        result: 'commit-refused',
        objects: [],
        error: redactUrl(e.message),
      });
      return this.loaded;
    }
  }

  private async trackKinds(plan: PlannedObject[]): Promise<void> {
    const { discovery } = this.d.conn;
    const namespaces = new Set<string>([this.d.target.namespace]);
    for (const p of plan) if (p.namespaced) namespaces.add(p.namespace);
    const kinds = new Map<string, ResourceInfo>();
    for (const [g, v, k] of [
      ['', 'v1', 'ConfigMap'],
      ['', 'v1', 'Namespace'],
    ] as const) {
      const info = await discovery.lookup(g, v, k);
      if (info) kinds.set(`${g}/${k}`, info);
    }
    for (const p of plan) {
      const info = await discovery.lookup(p.manifest.id.group, p.manifest.id.version, p.manifest.id.kind);
      if (info) kinds.set(`${info.group}/${info.kind}`, info);
    }
    for (const info of kinds.values()) {
      if (!info.namespaced) {
        await this.d.tracker.track(info);
        continue;
      }
      // One cluster-wide watch per kind where RBAC allows it (one connection instead of one
      // per namespace); per-namespace watches under namespaced Roles (the chart's default).
      try {
        await this.d.tracker.track(info);
      } catch (e) {
        if (!(e instanceof ApiStatusError && e.status === 403)) throw e;
        await this.d.tracker.track(info, [...namespaces]);
      }
    }
  }

  private async converge(
    commit: CommitInfo,
    plan: PlannedObject[],
    trigger: AuditTrigger,
    log: Logger,
  ): Promise<string> {
    const { app, target, metrics } = this.d;
    const conn = { ...this.d.conn, dryRuns: this.dryRuns };
    const ignore = app.sync.ignore;
    const commitIsNew = this.st.lastAppliedCommit !== commit.sha;
    let results: ObjectResult[];
    if (app.sync.mode === 'apply') {
      const outcome = await applyCommit({
        ...conn,
        plan,
        commit: commit.sha,
        app: app.name,
        namespace: target.namespace,
        settings: {
          ...DEFAULT_SETTINGS,
          prune: app.sync.prune,
          conflicts: app.sync.conflicts,
          ignore,
          allowMassPrune: !app.sync.pruneGuard,
        },
      });
      results = outcome.results;
      const isNew = outcome.previousCommit !== commit.sha && commitIsNew;
      const wrote = results.some((r) => WRITES.has(r.status));
      if (wrote) metrics.setLastApplied(app.name, new Date());
      await this.record(results, commit, trigger, isNew, wrote, log);
    } else {
      results = await reportDrift({ ...conn, plan, app: app.name, namespace: target.namespace, ignore });
      await this.record(results, commit, trigger, false, false, log);
    }
    const drifted = results.filter((r) => DRIFT_STATES.has(r.status)).length;
    metrics.setDrifted(app.name, drifted);
    // Nothing written and nothing failed: a repeat would find the same (see reconcile).
    this.quiet = !results.some((r) => r.status === 'failed' || r.status === 'error' || WRITES.has(r.status));
    // Every status field changes together, with no await in between: /status never shows half a reconcile.
    if (app.sync.mode === 'apply') this.st.lastAppliedCommit = commit.sha;
    this.st.driftedObjects = drifted;
    this.st.lastError = null;
    this.st.state = results.some((r) => r.status === 'conflict')
      ? 'conflict'
      : drifted > 0
        ? 'drifted'
        : 'in-sync';
    if (results.some((r) => r.status === 'failed')) {
      this.st.state = 'error';
      this.st.lastError = results.find((r) => r.status === 'failed')?.message ?? 'an object failed to apply';
    }
    if (this.refusedError) {
      this.st.state = 'error';
      this.st.lastError = this.refusedError;
    }
    return auditInput({ app: app.name, commit, trigger, mode: app.sync.mode, results, commitIsNew }).result;
  }

  /** One audit record per reconcile that did or found something new. */
  private async record(
    results: ObjectResult[],
    commit: CommitInfo,
    trigger: AuditTrigger,
    commitIsNew: boolean,
    wrote: boolean,
    log: Logger,
  ): Promise<void> {
    const reverts = revertOf(commit.message);
    const input = auditInput({
      app: this.d.app.name,
      commit,
      trigger,
      mode: this.d.app.sync.mode,
      results,
      commitIsNew,
      ...(reverts ? { revertOf: reverts } : {}),
    });
    // Record what happened (writes, a new commit) and what changed in what was found (new drift,
    // a conflict, an error, or their end); a steady state is recorded once, not every tick.
    const fingerprint = JSON.stringify([commit.sha, input.objects]);
    const finding = input.objects.length > 0;
    const changed = fingerprint !== this.lastFingerprint && (finding || this.lastWasFinding);
    if (!wrote && !commitIsNew && !changed) return;
    this.lastFingerprint = fingerprint;
    this.lastWasFinding = finding && !wrote;
    await this.d.audit.append(input);
    log.info({ result: input.result, objects: input.objects.length, trigger }, `reconciled: ${input.result}`);
  }

  private async fail(e: unknown, trigger: AuditTrigger, log: Logger): Promise<void> {
    const message = redactUrl(e instanceof Error ? e.message : String(e));
    this.st.state = 'error';
    this.st.lastError = message;
    log.error({ err: message, trigger }, 'reconcile failed; retrying at the next interval');
    const fingerprint = `error:${message}`;
    if (fingerprint === this.lastFingerprint) return;
    this.lastFingerprint = fingerprint;
    this.lastWasFinding = true;
    try {
      const c = this.loaded?.commit;
      await this.d.audit.append({
        app: this.d.app.name,
        commit: c
          ? {
              sha: c.sha,
              author: `${c.author.name} <${c.author.email}>`,
              message: c.message.trim(),
              time: c.author.time,
            }
          : null,
        trigger,
        mode: this.d.app.sync.mode,
        result: 'error',
        objects: [],
        error: message,
      });
    } catch (err) {
      log.error({ err: String(err) }, 'could not append to the audit log');
    }
  }
}
