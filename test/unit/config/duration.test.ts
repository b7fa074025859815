import { describe, expect, it } from 'vitest';
import { InvalidDurationError, parseDuration } from '../../../src/config/index.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1_500],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '30x', 's', '1 m', '-1s', '1d', 'm30'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidDurationError);
  });

  it('suggests a unit for a bare number', () => {
    try {
      parseDuration('30');
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidDurationError).message).toBe(
        '"30" is not a duration (use e.g. 500ms, 30s, 1m30s, 2h)',
      );
      expect((err as InvalidDurationError).hint).toBe('add a unit: 30s');
    }
  });
});
