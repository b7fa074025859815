import { describe, expect, it } from 'vitest';
import type { AppStatus } from '../../../src/agent/app-runner.ts';
import type { AppResource } from '../../../src/apps/resource.ts';
import { appResourceStatus, statusChanged } from '../../../src/apps/status.ts';

const sha = 'a'.repeat(40);
const resource = (status?: AppResource['status']): AppResource => ({
  metadata: { name: 'shop', namespace: 'team-a', generation: 3 },
  spec: {},
  ...(status ? { status } : {}),
});

const running = (over: Partial<AppStatus> = {}): AppStatus => ({
  name: 'shop',
  source: 'https://h/r.git',
  ref: 'main',
  path: '.',
  mode: 'apply',
  state: 'in-sync',
  lastSeenCommit: sha,
  lastAppliedCommit: sha,
  lastError: null,
  lastReconcileAt: '2026-11-25T10:00:00.000Z',
  nextPollAt: null,
  driftedObjects: 0,
  reconciles: 4,
  errors: [],
  lastRewrite: null,
  health: 'Current',
  unhealthy: [],
  notifications: [],
  ...over,
});

const conditions = (s: ReturnType<typeof appResourceStatus>) =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));

const now = '2026-11-25T10:00:05.000Z';

describe('App resource status', () => {
  it('is Ready when in sync and healthy, with the commit for the printer column', () => {
    const s = appResourceStatus({ resource: resource(), app: running(), now });
    expect(conditions(s)).toEqual({
      Ready: 'True Succeeded',
      Synced: 'True InSync',
      Healthy: 'True Current',
      Reconciling: 'False Idle',
    });
    expect(s).toMatchObject({
      observedGeneration: 3,
      state: 'in-sync',
      commit: sha.slice(0, 12),
      health: 'Current',
    });
    expect(s.conditions?.every((c) => c.observedGeneration === 3)).toBe(true);
  });

  it('says Reconciling while objects roll out, and not Ready yet', () => {
    const s = appResourceStatus({ resource: resource(), app: running({ health: 'InProgress' }), now });
    expect(conditions(s)).toMatchObject({ Ready: 'Unknown Progressing', Reconciling: 'True Progressing' });
  });

  it('is not Ready when drifted (report mode names the seen commit) or failed', () => {
    const drifted = appResourceStatus({
      resource: resource(),
      app: running({ mode: 'report', state: 'drifted', driftedObjects: 2, lastAppliedCommit: null }),
      now,
    });
    expect(conditions(drifted)).toMatchObject({ Ready: 'False Drifted', Synced: 'False Drifted' });
    expect(drifted.commit).toBe(sha.slice(0, 12));
    expect(drifted.driftedObjects).toBe(2);
    const failed = appResourceStatus({
      resource: resource(),
      app: running({ state: 'error', lastError: 'forbidden', errors: ['commit'] }),
      now,
    });
    expect(conditions(failed)).toMatchObject({
      Ready: 'False ReconcileFailed',
      Stalled: 'True CommitRefused',
    });
    expect(failed.lastError).toBe('forbidden');
  });

  it('is Stalled with the reason when the App cannot run', () => {
    const s = appResourceStatus({
      resource: resource(),
      problem: { reason: 'NameClash', message: 'taken' },
      now,
    });
    expect(conditions(s)).toEqual({
      Ready: 'False NameClash',
      Stalled: 'True NameClash',
      Reconciling: 'False NameClash',
    });
    expect(s).toMatchObject({ state: 'error', lastError: 'taken' });
  });

  it('keeps a transition time while the condition holds, and moves it when it flips', () => {
    const before = appResourceStatus({
      resource: resource(),
      app: running(),
      now: '2026-11-25T09:00:00.000Z',
    });
    const same = appResourceStatus({ resource: resource(before), app: running(), now });
    expect(same.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(
      '2026-11-25T09:00:00.000Z',
    );
    const flipped = appResourceStatus({
      resource: resource(before),
      app: running({ state: 'drifted' }),
      now,
    });
    expect(flipped.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(now);
  });

  it('counts a new reconcile time alone as no change (idle ticks write nothing)', () => {
    const a = appResourceStatus({ resource: resource(), app: running(), now });
    const b = appResourceStatus({
      resource: resource(a),
      app: running({ lastReconcileAt: '2026-11-25T10:01:00.000Z' }),
      now,
    });
    expect(statusChanged(a, b)).toBe(false);
    expect(statusChanged(a, { ...b, driftedObjects: 1 })).toBe(true);
    expect(statusChanged(undefined, b)).toBe(true);
  });
});
