import { describe, expect, it } from 'vitest';
import { checkAnchors, parseHead } from '../../../src/audit/index.ts';

const h = (c: string) => c.repeat(64);
const log = {
  head: { seq: 5, hash: h('5') },
  hashes: new Map([
    [3, h('3')],
    [5, h('5')],
  ]),
  seqs: [1, 2, 3, 4, 5],
};

describe('checkAnchors', () => {
  it('matches anchors the log has, and counts the records after the newest', () => {
    const r = checkAnchors(log, [
      { seq: 3, hash: h('3'), source: 'a/inv' },
      { seq: 5, hash: h('5'), source: 'b/inv' },
    ]);
    expect(r).toEqual({ problems: [], anchoredSeq: 5, unanchored: 0 });
    expect(checkAnchors(log, [{ seq: 3, hash: h('3'), source: 'a/inv' }])).toMatchObject({
      anchoredSeq: 3,
      unanchored: 2,
    });
  });

  it('names a deleted tail, a rewritten record and a missing seq', () => {
    const r = checkAnchors(log, [
      { seq: 7, hash: h('7'), source: 'ns/inv' },
      { seq: 3, hash: h('x'), source: '--head' },
      { seq: 4, hash: h('4'), source: 'ns/other' },
    ]);
    expect(r.problems).toEqual([
      'ns/inv anchors seq 7, but the log ends at seq 5: records after it were deleted',
      '--head anchors seq 3 with another hash: the log was rewritten up to there',
      'ns/other anchors seq 4, which the log does not have',
    ]);
    expect(r.anchoredSeq).toBeUndefined();
    expect(r.unanchored).toBe(5);
  });
});

describe('parseHead', () => {
  it('reads SEQ:HASH and refuses anything else', () => {
    expect(parseHead(` 12:${h('a')} `)).toEqual({ seq: 12, hash: h('a') });
    expect(parseHead(`12:${h('A')}`)).toBeUndefined();
    expect(parseHead('12')).toBeUndefined();
    expect(parseHead(`x:${h('a')}`)).toBeUndefined();
  });
});
