import { describe, expect, it } from 'vitest';
import {
  EMPTY_MEMORY,
  RESYNC_MS,
  canSkipEvaluation,
  failureDecision,
  isQuiet,
  recordDecision,
  settleAfter,
  viewAfter,
  type RecordMemory,
  type Settled,
  type Tick,
} from '../../../src/agent/decisions.ts';
import type { AuditObject } from '../../../src/audit/index.ts';
import type { ObjectResult, ObjectStatus } from '../../../src/sync/outcome.ts';
import type { PlannedObject } from '../../../src/sync/plan.ts';

const SHA1 = '1'.repeat(40);
const SHA2 = '2'.repeat(40);
/** Plans are compared by identity: the agent keeps the plan of a commit while the commit stays. */
const plan: PlannedObject[] = [];
const otherPlan: PlannedObject[] = [];

const settled: Settled = { sha: SHA1, plan, version: '42', result: 'in-sync', at: 1_000_000 };
const tick = (over: Partial<Tick> = {}): Tick => ({
  sha: SHA1,
  plan,
  version: '42',
  now: settled.at + 1000,
  ...over,
});

let n = 0;
const result = (status: ObjectStatus, message?: string): ObjectResult => ({
  id: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: `web-${n++}` },
  status,
  fields: [],
  conflicts: [],
  ...(message !== undefined && { message }),
});
const results = (...statuses: ObjectStatus[]) => statuses.map((s) => result(s));

describe('canSkipEvaluation', () => {
  it('skips when the commit, the plan and the watched objects are as a clean reconcile left them', () => {
    expect(canSkipEvaluation(settled, tick())).toBe(true);
    expect(canSkipEvaluation(settled, tick({ now: settled.at }))).toBe(true);
    expect(canSkipEvaluation(settled, tick({ now: settled.at + RESYNC_MS - 1 }))).toBe(true);
  });

  it('evaluates when nothing settled yet', () => {
    expect(canSkipEvaluation(undefined, tick())).toBe(false);
  });

  it('evaluates while a watch is down (no version)', () => {
    expect(canSkipEvaluation(settled, tick({ version: undefined }))).toBe(false);
  });

  it('evaluates when a watched object changed (another version)', () => {
    expect(canSkipEvaluation(settled, tick({ version: '43' }))).toBe(false);
  });

  it('evaluates a new commit', () => {
    expect(canSkipEvaluation(settled, tick({ sha: SHA2 }))).toBe(false);
  });

  it('evaluates another plan, even an equal-looking one', () => {
    expect(canSkipEvaluation(settled, tick({ plan: otherPlan }))).toBe(false);
  });

  it('evaluates once RESYNC_MS has passed since the state settled', () => {
    expect(RESYNC_MS).toBe(10 * 60_000);
    expect(canSkipEvaluation(settled, tick({ now: settled.at + RESYNC_MS }))).toBe(false);
    expect(canSkipEvaluation(settled, tick({ now: settled.at + 2 * RESYNC_MS }))).toBe(false);
  });
});

describe('isQuiet', () => {
  it('is true when nothing was written and nothing failed', () => {
    expect(isQuiet([])).toBe(true);
    expect(isQuiet(results('unchanged', 'skipped', 'in-sync'))).toBe(true);
    // Findings are quiet: evaluating again would find the same drift or conflict.
    expect(isQuiet(results('drifted', 'missing', 'orphaned', 'conflict'))).toBe(true);
  });

  it.each<ObjectStatus>(['created', 'configured', 'pruned', 'failed', 'error'])(
    'is false when an object was %s',
    (status) => {
      expect(isQuiet(results('unchanged', status, 'unchanged'))).toBe(false);
    },
  );
});

describe('settleAfter', () => {
  const t = tick({ now: 5_000_000 });

  it('settles a quiet reconcile during which the version did not move', () => {
    expect(settleAfter(t, '42', true, 'drift-found')).toEqual<Settled>({
      sha: SHA1,
      plan,
      version: '42',
      result: 'drift-found',
      at: 5_000_000,
    });
    expect(settleAfter(t, '42', true, 'in-sync')!.plan).toBe(plan);
  });

  it('does not settle a reconcile that wrote or failed', () => {
    expect(settleAfter(t, '42', false, 'applied')).toBeUndefined();
  });

  it('does not settle when a watch event came during the reconcile', () => {
    expect(settleAfter(t, '43', true, 'in-sync')).toBeUndefined();
    expect(settleAfter(t, undefined, true, 'in-sync')).toBeUndefined();
  });

  it('does not settle while a watch is down', () => {
    expect(settleAfter(tick({ version: undefined }), undefined, true, 'in-sync')).toBeUndefined();
    expect(settleAfter(tick({ version: undefined }), '42', true, 'in-sync')).toBeUndefined();
  });

  it('settles a state that canSkipEvaluation then trusts until something moves', () => {
    const s = settleAfter(t, '42', true, 'in-sync')!;
    expect(canSkipEvaluation(s, { ...t, now: t.now + 1 })).toBe(true);
    expect(canSkipEvaluation(s, { ...t, version: '44' })).toBe(false);
  });
});

describe('viewAfter', () => {
  it('is in-sync when nothing differs', () => {
    expect(viewAfter([], undefined)).toEqual({ state: 'in-sync', lastError: null, driftedObjects: 0 });
    expect(viewAfter(results('created', 'configured', 'pruned', 'unchanged'), undefined)).toEqual({
      state: 'in-sync',
      lastError: null,
      driftedObjects: 0,
    });
  });

  it('is drifted with the number of differing objects', () => {
    expect(viewAfter(results('drifted', 'in-sync', 'missing', 'orphaned'), undefined)).toEqual({
      state: 'drifted',
      lastError: null,
      driftedObjects: 3,
    });
  });

  it('is conflict when an object conflicts, even with drift; conflicts count as differing', () => {
    expect(viewAfter(results('drifted', 'conflict', 'drifted'), undefined)).toEqual({
      state: 'conflict',
      lastError: null,
      driftedObjects: 3,
    });
  });

  it("is error with the first failed object's message", () => {
    const view = viewAfter(
      [result('drifted'), result('failed', 'quota exceeded'), result('error', 'second')],
      undefined,
    );
    expect(view).toEqual({ state: 'error', lastError: 'quota exceeded', driftedObjects: 1 });
    expect(viewAfter([result('conflict'), result('error', 'dry-run refused')], undefined).state).toBe(
      'error',
    );
  });

  it('is error with a generic message when the failed object has none', () => {
    expect(viewAfter([result('failed')], undefined).lastError).toBe('an object failed to apply');
  });

  it("is error with the refused commit's error, over everything else", () => {
    const refused = 'commit 2222222 is not signed by a trusted key';
    expect(viewAfter([], refused)).toEqual({ state: 'error', lastError: refused, driftedObjects: 0 });
    expect(viewAfter([result('failed', 'quota exceeded'), result('drifted')], refused)).toEqual({
      state: 'error',
      lastError: refused,
      driftedObjects: 1,
    });
  });
});

describe('recordDecision', () => {
  const drifted: AuditObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: 'shop',
    name: 'web',
    action: 'drifted',
  };
  const missing: AuditObject = { ...drifted, name: 'api', action: 'missing' };
  const configured: AuditObject = { ...drifted, action: 'configured' };
  const commit = { sha: SHA1 };
  const quiet = { wrote: false, commitIsNew: false };

  /** Feeds the ticks in order from an empty memory; says which were appended. */
  function run(
    ticks: { objects: AuditObject[]; sha?: string; wrote?: boolean; commitIsNew?: boolean }[],
  ): boolean[] {
    let memory: RecordMemory = EMPTY_MEMORY;
    return ticks.map((t) => {
      const d = recordDecision(
        memory,
        { objects: t.objects, commit: { sha: t.sha ?? SHA1 } },
        { wrote: t.wrote ?? false, commitIsNew: t.commitIsNew ?? false },
      );
      memory = d.memory;
      return d.append;
    });
  }

  it('always records a write', () => {
    expect(
      run([
        { objects: [configured], wrote: true },
        { objects: [configured], wrote: true },
      ]),
    ).toEqual([true, true]);
    const d = recordDecision(
      EMPTY_MEMORY,
      { objects: [configured], commit },
      { wrote: true, commitIsNew: false },
    );
    expect(d.append).toBe(true);
    // A write is not a finding: the state after it is not one to announce the end of.
    expect(d.memory.lastWasFinding).toBe(false);
  });

  it('always records a new commit, even with nothing to say about its objects', () => {
    expect(
      run([
        { objects: [], commitIsNew: true },
        { objects: [], commitIsNew: true },
      ]),
    ).toEqual([true, true]);
  });

  it('records a finding once while it stays the same', () => {
    expect(run([{ objects: [drifted] }, { objects: [drifted] }, { objects: [drifted] }])).toEqual([
      true,
      false,
      false,
    ]);
    const first = recordDecision(EMPTY_MEMORY, { objects: [drifted], commit }, quiet);
    expect(first.memory.lastWasFinding).toBe(true);
    const again = recordDecision(first.memory, { objects: [drifted], commit }, quiet);
    expect(again).toEqual({ append: false, memory: first.memory });
  });

  it('records a finding again when it changes', () => {
    expect(
      run([
        { objects: [drifted] },
        { objects: [drifted, missing] },
        { objects: [missing] },
        { objects: [missing], sha: SHA2 },
      ]),
    ).toEqual([true, true, true, true]);
  });

  it('records the end of a finding once, then nothing while in sync', () => {
    expect(run([{ objects: [drifted] }, { objects: [] }, { objects: [] }])).toEqual([true, true, false]);
    const found = recordDecision(EMPTY_MEMORY, { objects: [drifted], commit }, quiet);
    const ended = recordDecision(found.memory, { objects: [], commit }, quiet);
    expect(ended.append).toBe(true);
    expect(ended.memory.lastWasFinding).toBe(false);
  });

  it('does not record a steady in-sync state', () => {
    expect(recordDecision(EMPTY_MEMORY, { objects: [], commit }, quiet)).toEqual({
      append: false,
      memory: EMPTY_MEMORY,
    });
    expect(run([{ objects: [] }, { objects: [] }])).toEqual([false, false]);
    // After a new commit applied cleanly, the in-sync ticks that follow are not recorded.
    expect(
      run([{ objects: [configured], wrote: true, commitIsNew: true }, { objects: [] }, { objects: [] }]),
    ).toEqual([true, false, false]);
  });

  it('records drift that comes back after a heal', () => {
    expect(
      run([
        { objects: [drifted] },
        { objects: [configured], wrote: true },
        { objects: [drifted] },
        { objects: [] },
      ]),
    ).toEqual([true, true, true, true]);
  });

  it('records the end of a failure noted by failureDecision', () => {
    const failed = failureDecision(EMPTY_MEMORY, 'fetch failed');
    expect(recordDecision(failed.memory, { objects: [], commit }, quiet).append).toBe(true);
    expect(recordDecision(failed.memory, { objects: [], commit: null }, quiet).append).toBe(true);
  });
});

describe('failureDecision', () => {
  it('records the same error once', () => {
    const first = failureDecision(EMPTY_MEMORY, 'fetch failed: 503');
    expect(first.append).toBe(true);
    expect(first.memory.lastWasFinding).toBe(true);
    const again = failureDecision(first.memory, 'fetch failed: 503');
    expect(again).toEqual({ append: false, memory: first.memory });
  });

  it('records a different error', () => {
    const first = failureDecision(EMPTY_MEMORY, 'fetch failed: 503');
    expect(failureDecision(first.memory, 'fetch failed: 401').append).toBe(true);
  });

  it('records an error that comes back after a recorded reconcile', () => {
    const first = failureDecision(EMPTY_MEMORY, 'fetch failed: 503');
    const found = recordDecision(
      first.memory,
      { objects: [], commit: { sha: SHA1 } },
      { wrote: false, commitIsNew: false },
    );
    expect(found.append).toBe(true);
    expect(failureDecision(found.memory, 'fetch failed: 503').append).toBe(true);
  });
});
