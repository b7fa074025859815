import { describe, expect, it } from 'vitest';
import { healthMessage, reconcileEvent } from '../../../src/notify/events.ts';
import type { ObjectResult } from '../../../src/sync/outcome.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const r = (name: string, status: ObjectResult['status'], message?: string): ObjectResult => ({
  id: { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'shop', name },
  status,
  fields: [],
  conflicts: [],
  ...(message ? { message } : {}),
});

describe('reconcileEvent', () => {
  it('nothing the audit log did not record', () => {
    expect(reconcileEvent('apply', SHA, [r('a', 'failed', 'no')], false)).toBeUndefined();
  });

  it('failed before applied; applied only when something was written', () => {
    expect(reconcileEvent('apply', SHA, [r('a', 'created'), r('b', 'failed', 'invalid key')], true)).toEqual({
      event: 'failed',
      result: 'error',
      message: 'sync of 0123456789ab failed: 1 object(s); ConfigMap shop/b: invalid key',
    });
    expect(
      reconcileEvent('apply', SHA, [r('a', 'created'), r('b', 'configured'), r('c', 'unchanged')], true),
    ).toEqual({
      event: 'applied',
      result: 'applied',
      message: 'applied 0123456789ab: 1 created, 1 configured',
    });
    expect(reconcileEvent('apply', SHA, [r('c', 'unchanged'), r('d', 'conflict')], true)).toBeUndefined();
  });

  it('report mode: drift names up to three objects; its end is no event', () => {
    const drifted = ['a', 'b', 'c', 'd'].map((n) => r(n, 'drifted'));
    expect(reconcileEvent('report', SHA, [...drifted, r('e', 'in-sync')], true)).toEqual({
      event: 'drift',
      result: 'drift',
      message:
        'drift at 0123456789ab: 4 object(s) differ from Git (ConfigMap shop/a, ConfigMap shop/b, ConfigMap shop/c and 1 more)',
    });
    expect(reconcileEvent('report', SHA, [r('e', 'in-sync')], true)).toBeUndefined();
  });
});

describe('healthMessage', () => {
  it('says how long a commit took to become healthy, and which object failed', () => {
    expect(healthMessage('healthy', SHA, 2.5, [])).toBe(
      '0123456789ab is healthy after 2.5s: every object is Current',
    );
    expect(
      healthMessage('degraded', SHA, undefined, [
        { kind: 'Deployment', namespace: 'shop', name: 'web', status: 'InProgress', message: 'rolling' },
        {
          kind: 'Deployment',
          namespace: 'shop',
          name: 'api',
          status: 'Failed',
          message: 'progress deadline exceeded',
        },
      ]),
    ).toBe('0123456789ab is degraded: Deployment shop/api Failed: progress deadline exceeded');
  });
});
