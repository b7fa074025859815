import { describe, expect, it } from 'vitest';
import { jsonPatch } from '../../../src/diff/index.ts';

describe('jsonPatch', () => {
  it('computes RFC 6902 operations', () => {
    const ops = jsonPatch({ spec: { replicas: 5, paused: true } }, { spec: { replicas: 2, image: 'x' } });
    expect(ops).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/spec/replicas', value: 2 },
        { op: 'remove', path: '/spec/paused' },
        { op: 'add', path: '/spec/image', value: 'x' },
      ]),
    );
    expect(ops).toHaveLength(3);
    expect(jsonPatch({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('treats a missing side as a whole-document add or remove', () => {
    expect(jsonPatch(undefined, { a: 1 })).toEqual([{ op: 'add', path: '', value: { a: 1 } }]);
    expect(jsonPatch({ a: 1 }, undefined)).toEqual([{ op: 'remove', path: '' }]);
  });

  it('masks Secret values', () => {
    const ops = jsonPatch({ kind: 'Secret', data: { p: 'b2xk' } }, { kind: 'Secret', data: { p: 'bmV3' } });
    expect(ops).toEqual([{ op: 'replace', path: '/data/p', value: '*** (changed)' }]);
  });
});
