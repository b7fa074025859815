import { describe, expect, it } from 'vitest';
import { shortSha } from '../../../src/util/sha.ts';

describe('shortSha', () => {
  it('keeps the first 7 characters, as git abbreviates a commit', () => {
    expect(shortSha('0123456789abcdef0123456789abcdef01234567')).toBe('0123456');
  });

  it('leaves a shorter string whole', () => {
    expect(shortSha('abc')).toBe('abc');
    expect(shortSha('')).toBe('');
  });
});
