/**
 * Leader election through a coordination.k8s.io/v1 Lease, with client-go's semantics: only
 * one replica of the agent writes to the cluster at a time, and a standby takes over when the
 * leader stops renewing.
 *
 * Expiry is judged as client-go does, by the local time at which this process last saw the
 * lease change, plus the lease's duration, never by comparing the holder's renewTime with the
 * local clock: clocks of two nodes may disagree by more than a lease lasts. The price is that
 * a newly started standby waits one full lease duration before taking over a dead holder's
 * lease (a released lease is taken at once).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../cluster/client.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { TetherError } from '../errors.ts';

export type LeaderLogFn = (
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export interface LeaderOptions {
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  /** How long a standby waits after the lease last changed before taking it over. */
  leaseDurationSeconds?: number;
  /** How long the leader keeps leading without a successful renewal. */
  renewDeadlineSeconds?: number;
  /** Pause between attempts to acquire or renew. */
  retryPeriodSeconds?: number;
  /** Called on each new term; the signal aborts when the term ends: stop writing then. */
  onStartedLeading: (signal: AbortSignal) => void;
  /** Called when a term ends (lost, released or stopped); not called if it never led. */
  onStoppedLeading: () => void;
  log?: LeaderLogFn;
}

export class LeaderConfigError extends TetherError {}

/** This replica is not (or no longer surely) the leader: it must not write. */
export class NotLeaderError extends TetherError {}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string } & Record<string, unknown>;
  spec?: LeaseSpec;
}

interface Term {
  controller: AbortController;
  /** The lease's transitions when this term began: a later value means someone else led since. */
  transitions: number;
  /** Start of the last attempt that renewed the lease (conservative: the write happened later). */
  renewedAt: number;
  deadline: NodeJS.Timeout;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds, e.g. 2026-01-01T00:00:00.000000Z. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly opts: LeaderOptions;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly path: string;
  /** The lease as last read or written. */
  private lease: Lease | undefined;
  private observedSpec = '';
  private observedAt = 0;
  private term: Term | undefined;
  private loop: AbortController | undefined;
  private running: Promise<void> | undefined;

  constructor(client: KubeClient, opts: LeaderOptions) {
    this.client = client;
    this.opts = opts;
    this.leaseMs = (opts.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = (opts.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (opts.retryPeriodSeconds ?? 2) * 1000;
    if (!(
      this.leaseMs > this.renewDeadlineMs &&
      this.renewDeadlineMs > this.retryMs * 1.2 &&
      this.retryMs > 0
    )) {
      throw new LeaderConfigError(
        `leader election needs leaseDuration (${this.leaseMs / 1000}s) > renewDeadline (${this.renewDeadlineMs / 1000}s) > 1.2 x retryPeriod (${this.retryMs / 1000}s) > 0`,
        { hint: 'the defaults are 15s, 10s and 2s' },
      );
    }
    if (!opts.identity) throw new LeaderConfigError('leader election needs a non-empty identity');
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(opts.namespace)}/leases/${encodeURIComponent(opts.name)}`;
  }

  /** Starts competing for the lease; idempotent. */
  start(): void {
    if (this.loop) return;
    const loop = new AbortController();
    this.loop = loop;
    this.running = this.run(loop.signal);
  }

  get isLeader(): boolean {
    // The deadline timer ends the term; the clock check covers a timer delayed by a busy loop.
    return this.term !== undefined && Date.now() - this.term.renewedAt < this.renewDeadlineMs;
  }

  /**
   * Reads the lease and checks that this replica still holds it, in the term it started
   * (same holder, same transitions): called before each write phase, so a replica that was
   * frozen while another one led writes nothing, even if its own clock has not noticed yet.
   * Throws NotLeaderError (and ends the term) otherwise.
   */
  async verify(): Promise<void> {
    const term = this.term;
    if (!term || !this.isLeader)
      throw new NotLeaderError('this replica does not hold the leader lease: it writes nothing');
    const lease = await this.client.request<Lease>({ method: 'GET', path: this.path });
    const holder = lease.spec?.holderIdentity ?? '';
    const transitions = lease.spec?.leaseTransitions ?? 0;
    if (holder !== this.opts.identity || transitions !== term.transitions) {
      const why = `lease now held by "${holder}" (transitions ${transitions}, ours ${term.transitions})`;
      if (this.term === term) this.endTerm(why);
      throw new NotLeaderError(`this replica lost the leader lease: ${why}; it writes nothing`);
    }
  }

  /** Stops competing without touching the lease (as a crash would): a standby takes over after it expires. */
  stop(): void {
    this.loop?.abort();
    this.loop = undefined;
    this.endTerm('stopped');
  }

  /**
   * Stops competing and gives the lease up, so that a standby takes over at once (SIGTERM).
   * The term's signal aborts before the lease is written. Leaves a lease alone that someone
   * else holds by now.
   */
  async release(): Promise<void> {
    const running = this.running;
    this.stop();
    await running; // no attempt of ours is in flight after this
    for (let attempt = 0; attempt < 3; attempt++) {
      let lease: Lease;
      try {
        lease = await this.client.request<Lease>({ method: 'GET', path: this.path });
      } catch (e) {
        if (e instanceof ApiStatusError && e.notFound) return;
        throw e;
      }
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      const now = Date.now();
      // As client-go: no holder and a 1 s duration, so even an old standby takes it right away.
      const spec: LeaseSpec = {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: microTime(now),
        renewTime: microTime(now),
      };
      try {
        this.lease = await this.client.request<Lease>({
          method: 'PUT',
          path: this.path,
          body: { ...lease, spec },
        });
        this.log('info', 'released the leader lease');
        return;
      } catch (e) {
        if (!(e instanceof ApiStatusError && e.conflict)) throw e;
      }
    }
  }

  private log(level: Parameters<LeaderLogFn>[0], msg: string, fields: Record<string, unknown> = {}): void {
    this.opts.log?.(level, msg, {
      lease: `${this.opts.namespace}/${this.opts.name}`,
      identity: this.opts.identity,
      ...fields,
    });
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const attemptAt = Date.now();
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew(attemptAt);
      } catch (e) {
        this.log(this.term ? 'warn' : 'debug', 'leader lease request failed', {
          error: (e as Error).message,
        });
      }
      if (signal.aborted) break;
      if (ok) this.renewed(attemptAt);
      else if (this.term && this.lease?.spec?.holderIdentity !== this.opts.identity) {
        this.endTerm(`lease taken by "${this.lease?.spec?.holderIdentity ?? ''}"`);
      }
      // Candidates add jitter so that they don't all knock at the same moment.
      const wait = this.term ? this.retryMs : this.retryMs * (1 + Math.random() * 0.2);
      await sleep(wait, undefined, { signal }).catch(() => {});
    }
  }

  private renewed(attemptAt: number): void {
    const left = this.renewDeadlineMs - (Date.now() - attemptAt);
    if (left <= 0) return; // too slow to count: the next attempt decides
    if (this.term) {
      clearTimeout(this.term.deadline);
      this.term.renewedAt = attemptAt;
      this.term.deadline = this.deadlineTimer(left);
      return;
    }
    const controller = new AbortController();
    this.term = {
      controller,
      transitions: this.lease?.spec?.leaseTransitions ?? 0,
      renewedAt: attemptAt,
      deadline: this.deadlineTimer(left),
    };
    this.log('info', 'became the leader', { transitions: this.lease?.spec?.leaseTransitions });
    try {
      this.opts.onStartedLeading(controller.signal);
    } catch (e) {
      this.log('error', 'onStartedLeading failed', { error: (e as Error).message });
    }
  }

  private deadlineTimer(ms: number): NodeJS.Timeout {
    const t = setTimeout(
      () => this.endTerm(`could not renew the lease for ${this.renewDeadlineMs / 1000}s`),
      ms,
    );
    t.unref();
    return t;
  }

  private endTerm(reason: string): void {
    const term = this.term;
    if (!term) return;
    this.term = undefined;
    clearTimeout(term.deadline);
    term.controller.abort(new Error(`leadership ended: ${reason}`));
    this.log('info', 'stopped leading', { reason });
    try {
      this.opts.onStoppedLeading();
    } catch (e) {
      this.log('error', 'onStoppedLeading failed', { error: (e as Error).message });
    }
  }

  /** Notes when the lease last changed, by this process's clock. */
  private observe(lease: Lease, now: number): void {
    this.lease = lease;
    const spec = JSON.stringify(lease.spec ?? {});
    if (spec !== this.observedSpec) {
      this.observedSpec = spec;
      this.observedAt = now;
    }
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { identity } = this.opts;
    // Leading: renew from the lease we wrote last, without reading it first.
    if (this.term && this.lease?.spec?.holderIdentity === identity) {
      const written = await this.write(this.lease, this.lease.spec, now).catch(() => undefined);
      if (written) return true;
    }
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>({ method: 'GET', path: this.path });
    } catch (e) {
      if (!(e instanceof ApiStatusError && e.notFound)) throw e;
      return this.create(now);
    }
    this.observe(lease, now);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
    if (holder !== '' && holder !== identity && this.observedAt + durationMs > now) return false;
    return (await this.write(lease, holder === identity ? spec : undefined, now)) !== undefined;
  }

  /** PUT with the lease's resourceVersion: of two candidates, one gets 409 Conflict. */
  private async write(lease: Lease, ours: LeaseSpec | undefined, now: number): Promise<Lease | undefined> {
    const old = lease.spec ?? {};
    const spec: LeaseSpec = {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.leaseMs / 1000,
      // Renewing keeps the term's start; taking over starts a new one.
      acquireTime: ours?.acquireTime ?? microTime(now),
      renewTime: microTime(now),
      leaseTransitions: ours ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
    };
    try {
      const written = await this.client.request<Lease>({
        method: 'PUT',
        path: this.path,
        body: { ...lease, spec },
      });
      this.observe(written, now);
      return written;
    } catch (e) {
      if (e instanceof ApiStatusError && e.conflict) return undefined;
      throw e;
    }
  }

  private async create(now: number): Promise<boolean> {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.opts.name, namespace: this.opts.namespace },
      spec: {
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: this.leaseMs / 1000,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      const created = await this.client.request<Lease>({
        method: 'POST',
        path: this.path.slice(0, this.path.lastIndexOf('/')),
        body: lease,
      });
      this.observe(created, now);
      return true;
    } catch (e) {
      if (e instanceof ApiStatusError && e.conflict) return false; // another candidate created it first
      throw e;
    }
  }
}
