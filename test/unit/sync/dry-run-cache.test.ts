import { describe, expect, it } from 'vitest';
import { DryRunCache, type CachedEvaluation } from '../../../src/sync/dry-run-cache.ts';
import { configMap } from '../../support/objects.ts';

const live = (resourceVersion: string) => configMap({ name: 'web', namespace: 'shop', resourceVersion });
const evaluation = (same: boolean): CachedEvaluation => ({
  dryRun: undefined,
  same,
  drift: [],
  conflicts: [],
  ignored: [],
});

describe('DryRunCache.key', () => {
  it('is made of the digest of the desired object and the live resourceVersion', () => {
    const key = DryRunCache.key('d1', live('42'));
    expect(key).toContain('d1');
    expect(key).toContain('42');
    expect(DryRunCache.key('d1', live('42'))).toBe(key);
    expect(DryRunCache.key('d2', live('42'))).not.toBe(key);
    expect(DryRunCache.key('d1', live('43'))).not.toBe(key);
  });

  it("says 'absent' when there is no live object", () => {
    const key = DryRunCache.key('d1', undefined);
    expect(key).toContain('d1');
    expect(key).toContain('absent');
    expect(key).not.toBe(DryRunCache.key('d1', live('42')));
    expect(key).not.toBe(DryRunCache.key('d2', undefined));
  });
});

describe('DryRunCache', () => {
  it('counts hits and misses', () => {
    const cache = new DryRunCache();
    const key = DryRunCache.key('d1', undefined);
    expect(cache.get(key)).toBeUndefined();
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 0, misses: 1 });
    const value = evaluation(true);
    cache.set(key, value);
    expect(cache.get(key)).toBe(value);
    expect(cache.get(key)).toBe(value);
    expect(cache.get(DryRunCache.key('d2', undefined))).toBeUndefined();
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 2, misses: 2 });
  });

  it('keeps at most `max` entries, evicting the least recently set first', () => {
    const cache = new DryRunCache(2);
    cache.set('a', evaluation(true));
    cache.set('b', evaluation(true));
    cache.set('c', evaluation(true));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('counts a get as a use: the entry read last stays', () => {
    const cache = new DryRunCache(2);
    const a = evaluation(false);
    cache.set('a', a);
    cache.set('b', evaluation(true));
    expect(cache.get('a')).toBe(a);
    cache.set('c', evaluation(true));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(a);
    expect(cache.get('c')).toBeDefined();
  });

  it('evicts one entry per insertion beyond the bound, oldest first', () => {
    const cache = new DryRunCache(3);
    for (const k of ['a', 'b', 'c', 'd', 'e']) cache.set(k, evaluation(true));
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => cache.get(k) !== undefined)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});
