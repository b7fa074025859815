import { describe, expect, it } from 'vitest';
import { deleteAfter, hookOf, syncWithHooks, type HookPhase } from '../../../src/sync/hooks.ts';

const job = (annotations: Record<string, string>) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'j', annotations },
});

describe('hookOf', () => {
  it('is undefined without a hook annotation', () => {
    expect(hookOf(job({ 'tether.dev/sync-wave': '1' }))).toBeUndefined();
  });

  it("reads Tether's phases, with before-hook-creation by default", () => {
    for (const phase of ['pre-sync', 'sync', 'post-sync', 'sync-fail'] as const)
      expect(hookOf(job({ 'tether.dev/hook': phase }))).toEqual({
        kind: 'hook',
        phase,
        deletePolicies: ['before-hook-creation'],
      });
  });

  it("reads Argo CD's and Helm's annotations as the same phases", () => {
    const phase = (a: Record<string, string>) => {
      const h = hookOf(job(a));
      return h?.kind === 'hook' ? h.phase : h?.kind;
    };
    expect(phase({ 'argocd.argoproj.io/hook': 'PreSync' })).toBe('pre-sync');
    expect(phase({ 'argocd.argoproj.io/hook': 'Sync' })).toBe('sync');
    expect(phase({ 'argocd.argoproj.io/hook': 'PostSync' })).toBe('post-sync');
    expect(phase({ 'argocd.argoproj.io/hook': 'SyncFail' })).toBe('sync-fail');
    expect(phase({ 'helm.sh/hook': 'pre-install' })).toBe('pre-sync');
    expect(phase({ 'helm.sh/hook': 'pre-install,pre-upgrade' })).toBe('pre-sync');
    expect(phase({ 'helm.sh/hook': 'post-install, post-upgrade' })).toBe('post-sync');
    // Tether's own annotation wins over the others.
    expect(phase({ 'tether.dev/hook': 'sync-fail', 'helm.sh/hook': 'post-install' })).toBe('sync-fail');
  });

  it("skips Argo CD's Skip and Helm's test and delete hooks, saying why", () => {
    expect(hookOf(job({ 'argocd.argoproj.io/hook': 'Skip' }))).toEqual({
      kind: 'skip',
      reason: 'argocd.argoproj.io/hook: Skip',
    });
    const helm = hookOf(job({ 'helm.sh/hook': 'test' }));
    expect(helm).toMatchObject({ kind: 'skip' });
    expect(helm?.kind === 'skip' && helm.reason).toContain('only install and upgrade hooks');
    expect(hookOf(job({ 'helm.sh/hook': 'pre-delete,post-delete' }))).toMatchObject({ kind: 'skip' });
  });

  it('is invalid for an unknown phase, two phases, or an unknown delete policy', () => {
    expect(hookOf(job({ 'tether.dev/hook': 'presync' }))).toMatchObject({ kind: 'invalid' });
    expect(hookOf(job({ 'argocd.argoproj.io/hook': 'PreSync,PostSync' }))).toMatchObject({ kind: 'invalid' });
    expect(hookOf(job({ 'helm.sh/hook': 'pre-install,post-install' }))).toMatchObject({ kind: 'invalid' });
    const bad = hookOf(job({ 'tether.dev/hook': 'sync', 'tether.dev/hook-delete-policy': 'always' }));
    expect(bad).toMatchObject({ kind: 'invalid' });
    expect(bad?.kind === 'invalid' && bad.message).toContain('"always"');
  });

  it("reads delete policies from Tether's, Argo CD's and Helm's annotations, comma lists", () => {
    const policies = (a: Record<string, string>) => {
      const h = hookOf(job({ 'tether.dev/hook': 'sync', ...a }));
      return h?.kind === 'hook' ? h.deletePolicies : undefined;
    };
    expect(policies({ 'tether.dev/hook-delete-policy': 'hook-succeeded,hook-failed' })).toEqual([
      'hook-succeeded',
      'hook-failed',
    ]);
    expect(
      policies({ 'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded, BeforeHookCreation' }),
    ).toEqual(['hook-succeeded', 'before-hook-creation']);
    expect(policies({ 'helm.sh/hook-delete-policy': 'hook-failed' })).toEqual(['hook-failed']);
  });

  it('deletes a finished hook by its policy', () => {
    expect(deleteAfter(['hook-succeeded'], 'succeeded')).toBe(true);
    expect(deleteAfter(['hook-succeeded'], 'failed')).toBe(false);
    expect(deleteAfter(['hook-failed'], 'timed-out')).toBe(true);
    expect(deleteAfter(['before-hook-creation'], 'succeeded')).toBe(false);
  });
});

describe('syncWithHooks', () => {
  /** Records the order of the steps; `fail` names the steps that fail. */
  function steps(phases: HookPhase[], fail: string[] = [], throwOn?: string) {
    const order: string[] = [];
    const step = (name: string) => {
      order.push(name);
      if (name === throwOn) throw new Error(`${name} stopped`);
      return !fail.includes(name);
    };
    return {
      order,
      s: {
        has: (p: HookPhase) => phases.includes(p),
        hooks: (p: HookPhase) => Promise.resolve(step(p)),
        apply: () => Promise.resolve(step('apply')),
        settle: () => Promise.resolve(void step('settle')),
      },
    };
  }
  const all: HookPhase[] = ['pre-sync', 'sync', 'post-sync', 'sync-fail'];

  it('runs pre-sync, apply, sync, (healthy) post-sync in order; no sync-fail on success', async () => {
    const { s, order } = steps(all);
    expect(await syncWithHooks(true, s)).toBe('applied');
    expect(order).toEqual(['pre-sync', 'apply', 'sync', 'settle', 'post-sync']);
  });

  it('a failed pre-sync hook stops the sync: only sync-fail hooks run', async () => {
    const { s, order } = steps(all, ['pre-sync']);
    expect(await syncWithHooks(true, s)).toBe('pre-sync-failed');
    expect(order).toEqual(['pre-sync', 'sync-fail']);
  });

  it('a failed apply runs sync-fail hooks, not sync or post-sync ones', async () => {
    const { s, order } = steps(all, ['apply']);
    expect(await syncWithHooks(true, s)).toBe('failed');
    expect(order).toEqual(['pre-sync', 'apply', 'sync-fail']);
  });

  it('an error that stops the sync runs sync-fail hooks, then is thrown again', async () => {
    const { s, order } = steps(all, [], 'settle');
    await expect(syncWithHooks(true, s)).rejects.toThrow('settle stopped');
    expect(order).toEqual(['pre-sync', 'apply', 'sync', 'settle', 'sync-fail']);
  });

  it('a failed post-sync hook runs sync-fail hooks', async () => {
    const { s, order } = steps(all, ['post-sync']);
    expect(await syncWithHooks(true, s)).toBe('failed');
    expect(order.at(-1)).toBe('sync-fail');
  });

  it('waits for health only when there are post-sync hooks', async () => {
    const { s, order } = steps(['pre-sync']);
    expect(await syncWithHooks(true, s)).toBe('applied');
    expect(order).toEqual(['pre-sync', 'apply']);
  });

  it('runs no hook for a commit already applied (a heal of drift)', async () => {
    const { s, order } = steps(all, ['apply']);
    expect(await syncWithHooks(false, s)).toBe('failed');
    expect(order).toEqual(['apply']);
  });
});
