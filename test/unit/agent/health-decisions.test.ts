import { describe, expect, it } from 'vitest';
import { healthEvent, type HealthMemory } from '../../../src/agent/health-decisions.ts';

describe('healthEvent', () => {
  it('records healthy once per commit, with the seconds since its first apply', () => {
    const first = healthEvent(undefined, 'a', 'InProgress', 1_000);
    expect(first.event).toBeUndefined();
    const healthy = healthEvent(first.memory, 'a', 'Current', 4_500);
    expect(healthy.event).toEqual({ result: 'healthy', seconds: 3.5 });
    expect(healthEvent(healthy.memory, 'a', 'Current', 9_000).event).toBeUndefined();
  });

  it('records degraded when a healthy commit fails later (a crash loop), and healthy again after', () => {
    const memory: HealthMemory = { sha: 'a', recorded: 'healthy', appliedAt: 0 };
    const degraded = healthEvent(memory, 'a', 'Failed', 10_000);
    expect(degraded.event).toEqual({ result: 'degraded' });
    expect(healthEvent(degraded.memory, 'a', 'Failed', 11_000).event).toBeUndefined();
    expect(healthEvent(degraded.memory, 'a', 'InProgress', 11_000).event).toBeUndefined();
    expect(healthEvent(degraded.memory, 'a', 'Current', 12_000).event?.result).toBe('healthy');
  });

  it('starts over for a new commit', () => {
    const memory: HealthMemory = { sha: 'a', recorded: 'healthy', appliedAt: 0 };
    const next = healthEvent(memory, 'b', 'InProgress', 5_000);
    expect(next.memory).toEqual({ sha: 'b', recorded: undefined, appliedAt: 5_000 });
    expect(healthEvent(next.memory, 'b', 'Current', 7_000).event).toEqual({ result: 'healthy', seconds: 2 });
  });
});
