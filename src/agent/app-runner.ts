/**
 * One app in the agent: level-triggered reconciles on every interval (with jitter) and every
 * trigger (webhook, watch event), serialized so two never overlap. Each reconcile compares
 * what Git wants with what the cluster has and converges (apply mode) or reports (report
 * mode). It keeps no state it cannot rebuild from Git and the cluster: what it remembers
 * (the loaded commit, dry-run results) only saves requests. The decisions themselves are
 * pure functions in decisions.ts; this class schedules and does the I/O.
 */
import { AuditError, type AuditInput, type AuditResult, type AuditTrigger } from '../audit/index.ts';
import type { ResourceInfo } from '../cluster/discovery.ts';
import { ApiStatusError, ApiUnreachableError } from '../cluster/errors.ts';
import type { LiveTracker } from '../cluster/live.ts';
import { redactUrl, TetherError } from '../errors.ts';
import { GitPoller, SourceError, type CommitInfo, type PollResult } from '../source/index.ts';
import type { App } from '../sync/app.ts';
import { DryRunCache } from '../sync/dry-run-cache.ts';
import { ApplyInterruptedError, ClusterNotReadyError, HookFailedError } from '../sync/errors.ts';
import { failed, reconcileResult, wrote, type ObjectResult } from '../sync/outcome.ts';
import { describeCommit, hooksFor, loadCommit, planFor, type Connection } from '../sync/pipeline.ts';
import type { PlannedHook, PlannedObject } from '../sync/plan.ts';
import { reportDrift } from '../sync/report.ts';
import { auditCommit, auditInput } from '../sync/to-audit.ts';
import { applyAudited, recoverIntents, type WriteAhead } from '../sync/write-ahead.ts';
import { shortSha } from '../util/sha.ts';
import type { AuditSink } from './audit-sink.ts';
import { NotLeaderError } from './leader.ts';
import { compactSoon } from './compact.ts';
import {
  canSkipEvaluation,
  EMPTY_MEMORY,
  failureDecision,
  isQuiet,
  recordDecision,
  settleAfter,
  viewAfter,
  type AppState,
  type RecordMemory,
  type Settled,
  type Tick,
} from './decisions.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { healthEvent, type HealthMemory } from './health-decisions.ts';
import { summarize as summarizeHealth, type HealthStatus } from '../health/index.ts';
import { readHealth, unhealthyObjects, type ObjectHealth, type UnhealthyObject } from '../sync/wait.ts';
import type { RunnerView } from './runner-view.ts';
import { maskError, type Masker } from '../manifests/index.ts';
import type { Notifications, NotifierStatus } from '../notify/dispatcher.ts';
import { healthMessage, reconcileEvent } from '../notify/events.ts';
import { shortCommit, type OutcomeEvent } from '../notify/outcome.ts';

export type { AppState } from './decisions.ts';

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
  /** Kinds of error the last reconcile met: source (git), cluster, audit, commit (refused). */
  errors: ErrorKind[];
  /** The last history rewrite of the tracked ref (force-push, moved tag, deleted ref). */
  lastRewrite: { kind: string; previous: string | null; seen: string; at: string } | null;
  /** kstatus health of the commit in force, from the watch cache; null before the first reconcile. */
  health: HealthStatus | null;
  /** Objects that are not Current (at most 20), with why. */
  unhealthy: UnhealthyObject[];
  /** Each notifier's last outcome, last error and since when it fails. */
  notifications: NotifierStatus[];
}

export type ErrorKind = 'source' | 'cluster' | 'audit' | 'commit';

export function errorKind(e: unknown): ErrorKind | undefined {
  if (e instanceof ApplyInterruptedError) return errorKind(e.cause);
  if (e instanceof SourceError) return 'source';
  if (e instanceof AuditError) return 'audit';
  if (e instanceof ApiStatusError || e instanceof ApiUnreachableError || e instanceof ClusterNotReadyError)
    return 'cluster';
  return undefined;
}

export interface AppRunnerDeps {
  app: App;
  conn: Connection;
  tracker: LiveTracker;
  audit: AuditSink;
  metrics: Metrics;
  log: Logger;
  /** False on a standby replica: it must not write. */
  mayWrite: () => boolean;
  /** Reads the lease before each write phase: throws when this replica no longer holds it. */
  verifyLease?: () => Promise<void>;
  /** The app's notifiers: told of outcomes, never waited for. */
  notifications?: Notifications;
}

/** An API request unanswered this long makes /status say the app is degraded. */
const HANGING_MS = 5_000;

/** A reconcile that sent this many requests allocated enough to be worth a collection. */
const BURST_REQUESTS = 100;

function jitter(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

interface Loaded {
  commit: CommitInfo;
  plan: PlannedObject[];
  /** The commit's sync hooks: run when the commit is new to the cluster. */
  hooks: PlannedHook[];
  /** The commit's Secret masker (its values only: the files are not kept). */
  mask: Masker;
  /** Watches for the plan's kinds are up. */
  tracked: boolean;
}

export class AppRunner {
  private readonly d: AppRunnerDeps;
  private readonly poller: GitPoller;
  private readonly dryRuns = new DryRunCache();
  /** The commit in force and its plan; the files themselves are not kept. */
  private loaded: Loaded | undefined;
  private refusedSha: string | undefined;
  /**
   * The commit whose pre-sync hook failed, and why: it is not synced again (hooks would run
   * again every interval); a new commit is. As Argo CD, which does not retry a failed sync of
   * the same revision unless told to.
   */
  private hookFailed: { sha: string; message: string } | undefined;
  /** Why the newest commit was refused; the app reports error until a good commit comes. */
  private refusedError: string | undefined;
  private running: Promise<void> | undefined;
  private pending: AuditTrigger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private memory: RecordMemory = EMPTY_MEMORY;
  private settled: Settled | undefined;
  /** Dangling write-ahead intents of a previous process are completed before the first write. */
  private recovered = false;
  /** A rewrite seen by the poll, recorded with the next audit record. */
  private pendingRewrite: AppStatus['lastRewrite'] = null;
  private sourceError: string | null = null;
  private healthMemory: HealthMemory | undefined;
  private readonly st: AppStatus;
  /** The last reconcile's objects and their health, for the status page (view()). */
  private lastReport: RunnerView['report'];
  private lastHealth: readonly ObjectHealth[] = [];

  constructor(deps: AppRunnerDeps) {
    this.d = deps;
    this.poller = new GitPoller({
      ...deps.app.source,
      onRequest: (kind) => deps.metrics.incGit(deps.app.name, kind),
    });
    this.st = {
      name: deps.app.name,
      source: this.poller.describe(),
      ref: deps.app.source.ref ?? null,
      path: deps.app.path || '.',
      mode: deps.app.mode,
      state: deps.app.suspend ? 'suspended' : 'pending',
      lastSeenCommit: null,
      lastAppliedCommit: null,
      lastError: null,
      lastReconcileAt: null,
      nextPollAt: null,
      driftedObjects: 0,
      reconciles: 0,
      errors: [],
      lastRewrite: null,
      health: null,
      unhealthy: [],
      notifications: [],
    };
  }

  get name(): string {
    return this.d.app.name;
  }

  /** The app as it runs (its source, for the webhook). */
  get app(): App {
    return this.d.app;
  }

  /**
   * The status as /status shows it. While a reconcile waits on the API server for more than
   * HANGING_MS (etcd or the server frozen, a request that will only time out later), the app
   * shows degraded with what it waits for, instead of the last result.
   */
  status(): AppStatus {
    this.st.notifications = this.d.notifications?.status() ?? [];
    const pending = this.running ? this.d.conn.client.oldestPending() : undefined;
    if (pending && pending.waitingMs > HANGING_MS) {
      const wait = `${pending.what} has waited ${Math.round(pending.waitingMs / 1000)}s for the API server`;
      return {
        ...this.st,
        state: 'degraded',
        lastError: `reconcile under way is stuck: ${wait}`,
        errors: [...new Set([...this.st.errors, 'cluster' as const])],
      };
    }
    return { ...this.st };
  }

  /** What the status page shows beyond status(): read-only references. */
  view(): RunnerView {
    const { app, conn, tracker } = this.d;
    const { lastReport: report, lastHealth: health } = this;
    return { app, conn, tracker, commit: this.loaded?.commit, plan: this.loaded?.plan ?? [], report, health };
  }

  start(): void {
    if (this.d.app.suspend) return;
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

  /** Resolves once the notifications queued so far were sent or gave up. */
  notificationsIdle(): Promise<void> {
    return this.d.notifications?.idle() ?? Promise.resolve();
  }

  /** Starts a reconcile now, or right after the one under way. */
  trigger(reason: AuditTrigger): void {
    if (this.stopped || this.d.app.suspend) return;
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
    const delay = jitter(this.d.app.intervalMs);
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
    const errors: ErrorKind[] = [];
    try {
      // A failed poll never stops the commit in force from being converged (level-triggered).
      const poll = await this.poll(log, errors);
      if (poll) log = log.child({ commit: poll.sha.slice(0, 12) });
      const current = poll ? await this.current(poll, log) : this.loaded;
      if (poll && this.refusedSha === poll.sha) errors.push('commit');
      if (!current) {
        // Nothing was ever applied and the first commit is refused.
        this.st.state = 'error';
        this.st.lastError = this.refusedError ?? null;
        result = 'commit-refused';
        return;
      }
      if (this.hookFailed?.sha === current.commit.sha) {
        this.st.state = 'error';
        this.st.lastError = this.hookFailed.message;
        return;
      }
      // Outside the refusal path: a cluster error while starting watches is the cluster's, not the commit's.
      if (!current.tracked) {
        await this.trackKinds(current.plan);
        current.tracked = true;
      }
      const tick: Tick = {
        sha: poll?.sha ?? current.commit.sha,
        plan: current.plan,
        version: this.d.tracker.version(app.name),
        now: Date.now(),
      };
      // A refused newer commit does not change what is converged; an unreachable source (or
      // the end of that) changes the state to report, so that tick evaluates.
      const unsettling = errors.some((k) => k !== 'commit') || this.st.state === 'degraded';
      if (!unsettling && canSkipEvaluation(this.settled, tick)) {
        result = this.settled!.result;
        metrics.recordSkippedEvaluation(app.name);
        await this.updateHealth(current, trigger, log);
        return;
      }
      this.settled = undefined;
      const results = await this.converge(current.commit, current.plan, trigger, log);
      result = results.result;
      if (this.sourceError) {
        this.st.state = 'degraded';
        this.st.lastError = this.st.lastError ?? this.sourceError;
      }
      this.settled = settleAfter(tick, this.d.tracker.version(app.name), isQuiet(results.objects), result);
      await this.updateHealth(current, trigger, log);
    } catch (e) {
      result = 'error';
      const kind = errorKind(e);
      if (kind) errors.push(kind);
      await this.fail(e, trigger, log);
    } finally {
      this.st.errors = [...new Set(errors)];
      metrics.setAppErrors(app.name, this.st.errors);
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

  /** The poll, or undefined when it failed while a commit is in force (converged meanwhile). */
  private async poll(log: Logger, errors: ErrorKind[]): Promise<PollResult | undefined> {
    let poll: PollResult;
    try {
      poll = await this.poller.poll();
    } catch (e) {
      if (!this.loaded || !(e instanceof SourceError)) throw e;
      errors.push('source');
      this.sourceError = `source unreachable; converging the commit in force (${shortSha(this.loaded.commit.sha)}): ${redactUrl(e.message)}`;
      log.warn({ err: redactUrl(e.message) }, 'poll failed; converging the commit in force');
      return undefined;
    }
    this.sourceError = null;
    this.st.lastSeenCommit = poll.sha;
    if (poll.rewrite) {
      log.warn({ rewrite: poll.rewrite, previous: poll.previous }, `history rewritten: ${poll.rewrite}`);
      const rewrite = {
        kind: poll.rewrite,
        previous: poll.previous ?? null,
        seen: poll.sha,
        at: new Date().toISOString(),
      };
      this.st.lastRewrite = rewrite;
      this.pendingRewrite = rewrite;
    }
    return poll;
  }

  private requestTotal(): number {
    return this.d.conn.client.requestCounts().reduce((n, c) => n + c.count, 0);
  }

  /** The commit to reconcile: the new one if it loads and validates, else the one in force. */
  private async current(poll: PollResult, log: Logger): Promise<Loaded | undefined> {
    if (this.loaded?.commit.sha === poll.sha || this.refusedSha === poll.sha) return this.loaded;
    try {
      const loaded = await loadCommit(this.d.app, poll.sha, {
        kubeVersion: () => this.d.conn.discovery.serverVersion(),
      });
      const plan = planFor(this.d.app, loaded, this.d.conn);
      const hooks = hooksFor(this.d.app, loaded, this.d.conn);
      this.loaded = { commit: loaded.snapshot.commit, plan, hooks, tracked: false, mask: loaded.mask };
      this.refusedSha = undefined;
      this.refusedError = undefined;
      log.info({ objects: plan.length }, 'loaded new commit');
      return this.loaded;
    } catch (e) {
      if (!(e instanceof TetherError)) throw e;
      // A bad commit never replaces the one in force; say so once per commit.
      this.refusedSha = poll.sha;
      this.refusedError = `commit ${shortSha(poll.sha)} refused: ${redactUrl(e.message)}`;
      log.error({ err: redactUrl(e.message) }, 'commit refused; the previous commit stays in force');
      // Shown at once: the converge of the commit in force that follows keeps saying so.
      this.st.state = 'error';
      this.st.lastError = this.refusedError;
      this.notify('failed', poll.sha, 'commit-refused', this.refusedError);
      const refused = await describeCommit(this.d.app, poll.sha);
      await this.d.audit.append({
        app: this.d.app.name,
        commit: refused ? auditCommit(refused) : null,
        ...(refused ? {} : { details: { sha: poll.sha } }),
        trigger: 'poll',
        mode: this.d.app.mode,
        result: 'commit-refused',
        objects: [],
        error: redactUrl(e.message),
      });
      return this.loaded;
    }
  }

  private async trackKinds(plan: PlannedObject[]): Promise<void> {
    const { discovery } = this.d.conn;
    const namespaces = new Set<string>([this.d.app.destination.namespace]);
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
  ): Promise<{ objects: ObjectResult[]; result: AuditResult }> {
    const { app, metrics } = this.d;
    const conn = {
      ...this.d.conn,
      dryRuns: this.dryRuns,
      ...(this.loaded ? { mask: this.loaded.mask } : {}),
    };
    const target = {
      ...conn,
      plan,
      ...(this.loaded?.plan === plan ? { hooks: this.loaded.hooks } : {}),
      app: app.name,
      source: app.sourceId,
      namespace: app.destination.namespace,
    };
    const commitIsNew = this.st.lastAppliedCommit !== commit.sha;
    let results: ObjectResult[];
    let recorded: boolean;
    if (app.mode === 'apply') {
      if (commitIsNew) this.notify('applying', commit.sha, 'pending', `applying ${shortCommit(commit.sha)}`);
      if (!this.recovered) {
        const n = await recoverIntents(this.d.audit, conn, app.name, app.destination.namespace);
        if (n > 0) log.warn({ intents: n }, 'completed write-ahead intents a previous process left open');
        this.recovered = true;
      }
      const outcome = await applyAudited({
        ...target,
        commit: commit.sha,
        settings: app.settings,
        log: this.d.audit,
        commitInfo: commit,
        trigger,
        fence: () => {
          if (!this.d.mayWrite())
            throw new NotLeaderError('this replica no longer holds the lease: it writes nothing');
        },
        ...(this.d.verifyLease ? { checkpoint: this.d.verifyLease } : {}),
      });
      results = outcome.results;
      const isNew = outcome.previousCommit !== commit.sha && commitIsNew;
      const didWrite = results.some((r) => wrote(r.status));
      if (didWrite) metrics.setLastApplied(app.name, new Date());
      const opts = { commitIsNew: isNew, wrote: didWrite };
      recorded = await this.record(results, commit, trigger, opts, log, outcome.gate);
    } else {
      results = await reportDrift({ ...target, ignore: app.settings.ignore });
      recorded = await this.record(results, commit, trigger, { commitIsNew: false, wrote: false }, log);
    }
    const event = reconcileEvent(app.mode, commit.sha, results, recorded);
    if (event) this.notify(event.event, commit.sha, event.result, event.message);
    const view = viewAfter(results, this.refusedError);
    metrics.setDrifted(app.name, view.driftedObjects);
    // Every status field changes together, with no await in between: /status never shows half a reconcile.
    // A commit is applied only when all of it is: a partial apply leaves the last applied one.
    if (app.mode === 'apply' && !results.some((r) => failed(r.status)))
      this.st.lastAppliedCommit = commit.sha;
    Object.assign(this.st, view);
    this.lastReport = { commit: commit.sha, results };
    return { objects: results, result: reconcileResult(app.mode, results, commitIsNew) };
  }

  /**
   * The commit's health from the watch cache (no request), on /status and in metrics; in
   * apply mode the audit log records when the commit becomes healthy and when it degrades.
   */
  private async updateHealth(current: Loaded, trigger: AuditTrigger, log: Logger): Promise<void> {
    const { app, metrics, conn, tracker } = this.d;
    const source = {
      info: (g: string, v: string, k: string) => Promise.resolve(conn.discovery.cached(g, v, k)),
      read: (info: ResourceInfo, ns: string, name: string) => Promise.resolve(tracker.peek(info, ns, name)),
    };
    const objects = await readHealth(current.plan, new Date(), source);
    const status = summarizeHealth(objects.map((o) => o.health));
    metrics.setHealth(
      app.name,
      status,
      objects.map((o) => o.health.status),
    );
    Object.assign(this.st, { health: status, unhealthy: unhealthyObjects(objects).slice(0, 20) });
    this.lastHealth = objects;
    if (app.mode !== 'apply' || this.st.lastAppliedCommit !== current.commit.sha) return;
    const { memory, event } = healthEvent(this.healthMemory, current.commit.sha, status, Date.now());
    this.healthMemory = memory;
    if (!event) return;
    await this.d.audit.append({
      app: app.name,
      commit: auditCommit(current.commit),
      trigger,
      mode: 'apply',
      result: event.result,
      objects: [],
      details: {
        health: {
          status,
          ...(event.seconds !== undefined ? { seconds: event.seconds } : {}),
          objects: this.st.unhealthy,
        },
      },
    });
    log.info({ health: status, seconds: event.seconds }, `commit ${event.result}`);
    const message = healthMessage(event.result, current.commit.sha, event.seconds, this.st.unhealthy);
    this.notify(event.result, current.commit.sha, event.result, message);
  }

  /** Tells the app's notifiers (fire and forget: a failing notifier never blocks or fails a reconcile). */
  private notify(event: OutcomeEvent, commit: string | null, result: string, message: string): void {
    this.d.notifications?.notify({
      app: this.d.app.name,
      event,
      commit,
      result,
      health: this.st.health,
      message,
      time: new Date().toISOString(),
    });
  }

  /** One audit record per reconcile that did or found something new; true when it appended one. */
  private async record(
    results: ObjectResult[],
    commit: CommitInfo,
    trigger: AuditTrigger,
    opts: { commitIsNew: boolean; wrote: boolean },
    log: Logger,
    gate?: WriteAhead,
  ): Promise<boolean> {
    const { app } = this.d;
    let input: AuditInput = auditInput({
      app: app.name,
      commit,
      trigger,
      mode: app.mode,
      results,
      commitIsNew: opts.commitIsNew,
    });
    if (this.pendingRewrite)
      input = { ...input, details: { ...input.details, historyRewrite: this.pendingRewrite } };
    const decision = recordDecision(this.memory, input, opts);
    // An intent is always completed, and a history rewrite always recorded.
    if (!decision.append && gate?.intent === undefined && !this.pendingRewrite) return false;
    this.memory = decision.memory;
    await this.d.audit.append(gate ? gate.complete(input) : input);
    this.pendingRewrite = null;
    log.info({ result: input.result, objects: input.objects.length, trigger }, `reconciled: ${input.result}`);
    return decision.append;
  }

  private async fail(e: unknown, trigger: AuditTrigger, log: Logger): Promise<void> {
    if (this.loaded) maskError(e, this.loaded.mask);
    const message = redactUrl(e instanceof Error ? e.message : String(e));
    this.st.state = 'error';
    this.st.lastError = message;
    const cause = e instanceof ApplyInterruptedError ? e.cause : e;
    if (cause instanceof HookFailedError && this.loaded) {
      this.hookFailed = { sha: this.loaded.commit.sha, message };
      log.error({ err: message, trigger }, 'a pre-sync hook failed; this commit is not synced again');
    } else log.error({ err: message, trigger }, 'reconcile failed; retrying at the next interval');
    const decision = failureDecision(this.memory, message);
    // A reconcile stopped half way has had its completion record appended with what it wrote.
    // Its intent stays open: the next apply reconcile completes it from what the cluster shows.
    if (e instanceof ApplyInterruptedError) this.recovered = false;
    if (!decision.append || (e instanceof ApplyInterruptedError && !(e.cause instanceof AuditError))) return;
    this.memory = decision.memory;
    const c = this.loaded?.commit;
    this.notify('failed', c?.sha ?? null, 'error', `reconcile failed: ${message}`);
    try {
      await this.d.audit.append({
        app: this.d.app.name,
        commit: c ? auditCommit(c) : null,
        trigger,
        mode: this.d.app.mode,
        result: 'error',
        objects: [],
        error: message,
      });
    } catch (err) {
      log.error({ err: String(err) }, 'could not append to the audit log');
    }
  }
}
