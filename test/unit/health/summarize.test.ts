import { describe, expect, it } from 'vitest';
import { summarize, type Health, type HealthStatus } from '../../../src/health/index.ts';

const h = (status: HealthStatus): Health => ({ status, message: status });
const of = (...statuses: HealthStatus[]): HealthStatus => summarize(statuses.map(h));

describe('summarize', () => {
  it('an app with no objects is Current', () => {
    expect(summarize([])).toBe('Current');
  });

  it('all Current is Current', () => {
    expect(of('Current', 'Current')).toBe('Current');
  });

  it('the worst wins: Failed > Unknown > Terminating > InProgress > Current', () => {
    expect(of('Current', 'InProgress', 'Terminating', 'Unknown', 'Failed')).toBe('Failed');
    expect(of('Failed', 'Unknown', 'Terminating', 'InProgress', 'Current')).toBe('Failed');
    expect(of('Current', 'InProgress', 'Terminating', 'Unknown')).toBe('Unknown');
    expect(of('InProgress', 'Terminating', 'Current')).toBe('Terminating');
    expect(of('Current', 'InProgress')).toBe('InProgress');
  });

  it('a missing object of the app counts as InProgress (about to be created)', () => {
    expect(of('NotFound')).toBe('InProgress');
    expect(of('Current', 'NotFound')).toBe('InProgress');
    expect(of('NotFound', 'InProgress')).toBe('InProgress');
    expect(of('NotFound', 'Terminating')).toBe('Terminating');
    expect(of('NotFound', 'Failed')).toBe('Failed');
  });
});
