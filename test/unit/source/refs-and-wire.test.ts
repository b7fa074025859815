import { describe, expect, it } from 'vitest';
import { AmbiguousRefError, InvalidSourceError } from '../../../src/source/errors.ts';
import { parsePktLines, pkt, FLUSH, DELIM } from '../../../src/source/pkt-line.ts';
import { isFullSha, pickRef, refPrefixes } from '../../../src/source/resolve.ts';
import { normalizeRepoPath } from '../../../src/source/read-tree.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

describe('pkt-lines', () => {
  it('round-trips data, flush and delim', () => {
    const buf = Buffer.concat([pkt('command=ls-refs\n'), DELIM, pkt('peel\n'), FLUSH]);
    expect(buf.toString()).toBe('0014command=ls-refs\n00010009peel\n0000');
    const lines = parsePktLines(buf);
    expect(lines.map((l) => (typeof l === 'string' ? l : l.toString()))).toEqual([
      'command=ls-refs\n',
      'delim',
      'peel\n',
      'flush',
    ]);
  });

  it('rejects bad framing', () => {
    expect(() => parsePktLines(Buffer.from('<html>'))).toThrow();
    expect(() => parsePktLines(Buffer.from('00ffabc'))).toThrow();
  });
});

describe('ref resolution', () => {
  it('asks for the right prefixes', () => {
    expect(refPrefixes(undefined)).toEqual(['HEAD']);
    expect(refPrefixes('main')).toEqual(['refs/heads/main', 'refs/tags/main']);
    expect(refPrefixes('refs/pull/1/head')).toEqual(['refs/pull/1/head']);
  });

  it('follows HEAD to the default branch', () => {
    expect(pickRef([{ ref: 'HEAD', oid: A, target: 'refs/heads/trunk' }], undefined)).toEqual({
      sha: A,
      ref: 'refs/heads/trunk',
      kind: 'branch',
    });
    expect(pickRef([{ ref: 'HEAD', oid: A }], undefined)).toEqual({ sha: A, ref: 'HEAD', kind: 'other' });
    expect(pickRef([], undefined)).toBeUndefined();
  });

  it('matches names exactly (a prefix match is not a match) and peels tags', () => {
    const refs = [
      { ref: 'refs/heads/main-old', oid: A },
      { ref: 'refs/heads/main', oid: B },
      { ref: 'refs/tags/v1', oid: C, peeled: A },
    ];
    expect(pickRef(refs, 'main')).toEqual({ sha: B, ref: 'refs/heads/main', kind: 'branch' });
    expect(pickRef(refs, 'v1')).toEqual({ sha: A, ref: 'refs/tags/v1', kind: 'tag' });
    expect(pickRef(refs, 'mai')).toBeUndefined();
  });

  it('refuses ambiguity and takes full shas as they are', () => {
    expect(() =>
      pickRef(
        [
          { ref: 'refs/heads/x', oid: A },
          { ref: 'refs/tags/x', oid: B },
        ],
        'x',
      ),
    ).toThrow(AmbiguousRefError);
    expect(pickRef([], A)).toEqual({ sha: A, ref: A, kind: 'commit' });
    expect(isFullSha(A)).toBe(true);
    expect(isFullSha('abc123')).toBe(false);
    expect(isFullSha(A.toUpperCase())).toBe(false);
  });
});

describe('paths', () => {
  it('normalizes user paths and refuses climbing out', () => {
    expect(normalizeRepoPath(undefined)).toBe('');
    expect(normalizeRepoPath('.')).toBe('');
    expect(normalizeRepoPath('./apps/web/')).toBe('apps/web');
    expect(normalizeRepoPath('apps//web')).toBe('apps/web');
    expect(normalizeRepoPath('apps/../shared')).toBe('shared');
    expect(normalizeRepoPath('.config')).toBe('.config');
    // Refused, never turned into another directory of the repository.
    expect(() => normalizeRepoPath('../etc')).toThrow(InvalidSourceError);
    expect(() => normalizeRepoPath('a/../../b')).toThrow(/outside the repository/);
    expect(() => normalizeRepoPath('/apps/web')).toThrow(/absolute/);
  });
});
