import { describe, expect, it } from 'vitest';
import { AmbiguousRevisionError, InvalidRevisionError } from '../../../src/source/errors.ts';
import { normalizeDir } from '../../../src/source/identity.ts';
import { isShaPrefix, parseRevision } from '../../../src/source/revision.ts';

describe('parseRevision', () => {
  it('reads a plain name as a base without steps', () => {
    expect(parseRevision('main')).toEqual({ text: 'main', base: 'main', steps: [] });
    expect(parseRevision('refs/tags/v1.2')).toEqual({
      text: 'refs/tags/v1.2',
      base: 'refs/tags/v1.2',
      steps: [],
    });
    expect(parseRevision('0d521c6').steps).toEqual([]);
  });

  it('reads ~N, ~, ^N and ^ in order, as git does', () => {
    expect(parseRevision('HEAD~2').steps).toEqual([{ op: 'ancestor', n: 2 }]);
    expect(parseRevision('HEAD~').steps).toEqual([{ op: 'ancestor', n: 1 }]);
    expect(parseRevision('main^').steps).toEqual([{ op: 'parent', n: 1 }]);
    expect(parseRevision('main^2').steps).toEqual([{ op: 'parent', n: 2 }]);
    expect(parseRevision('v1^0').steps).toEqual([{ op: 'parent', n: 0 }]);
    expect(parseRevision('HEAD~~^2~3').steps).toEqual([
      { op: 'ancestor', n: 1 },
      { op: 'ancestor', n: 1 },
      { op: 'parent', n: 2 },
      { op: 'ancestor', n: 3 },
    ]);
    expect(parseRevision('abcd^^').steps).toEqual([
      { op: 'parent', n: 1 },
      { op: 'parent', n: 1 },
    ]);
  });

  it('peels tags with ^{} and ^{commit}; @ is HEAD', () => {
    expect(parseRevision('v1^{}').steps).toEqual([{ op: 'peel' }]);
    expect(parseRevision('v1^{commit}~1').steps).toEqual([{ op: 'peel' }, { op: 'ancestor', n: 1 }]);
    expect(parseRevision('@~1')).toEqual({ text: '@~1', base: 'HEAD', steps: [{ op: 'ancestor', n: 1 }] });
  });

  it('refuses what names no single commit, saying which forms work', () => {
    for (const bad of [
      '',
      ' ',
      'main..pr',
      'HEAD@{1}',
      'HEAD:apps/x.yaml',
      '~1',
      '^2',
      'HEAD^{tree}',
      'HEAD~x',
      'a b~1',
    ]) {
      expect(() => parseRevision(bad), bad).toThrow(InvalidRevisionError);
    }
    expect(() => parseRevision('main..pr')).toThrow(/range/);
    expect(() => parseRevision('~1')).toThrow(/HEAD~1/);
  });

  it('tells sha prefixes from names', () => {
    expect(isShaPrefix('abc')).toBe(false);
    expect(isShaPrefix('abcd')).toBe(true);
    expect(isShaPrefix('0D521C6')).toBe(true);
    expect(isShaPrefix('a'.repeat(41))).toBe(false);
    expect(isShaPrefix('main')).toBe(false);
  });
});

describe('AmbiguousRevisionError', () => {
  it('lists every candidate with its subject, long enough to tell them apart', () => {
    const err = new AmbiguousRevisionError('abcd', '/repo', [
      { sha: 'abcd1234' + '0'.repeat(32), subject: 'add web' },
      { sha: 'abcd1239' + '0'.repeat(32), subject: 'bump image' },
    ]);
    expect(err.message).toBe(
      'short sha abcd is ambiguous in /repo: 2 commits start with it: abcd1234 (add web), abcd1239 (bump image)',
    );
    expect(err.hint).toMatch(/more digits/);
    expect(err.candidates).toHaveLength(2);
  });
});

describe('normalizeDir', () => {
  it('drops a leading ./ and trailing slashes only', () => {
    expect(normalizeDir('./apps/shop/')).toBe('apps/shop');
    expect(normalizeDir('.')).toBe('');
    expect(normalizeDir('.config')).toBe('.config');
    expect(normalizeDir('../x')).toBe('../x');
  });
});
