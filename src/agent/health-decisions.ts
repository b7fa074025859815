/**
 * When the agent records a commit's health in the audit log: once when the commit becomes
 * healthy (with the time it took from its first apply), and whenever it turns degraded (an
 * object Failed: a progress deadline passed, a crash loop), again healthy when it recovers.
 * InProgress is no event: a rollout under way. Pure.
 */
import type { HealthStatus } from '../health/index.ts';

export interface HealthMemory {
  sha: string;
  /** What was recorded last for this commit. */
  recorded: 'healthy' | 'degraded' | undefined;
  /** When the commit was first applied (ms since the epoch). */
  appliedAt: number;
}

export interface HealthEvent {
  result: 'healthy' | 'degraded';
  /** healthy: seconds from the first apply of the commit. */
  seconds?: number;
}

export function healthEvent(
  memory: HealthMemory | undefined,
  sha: string,
  status: HealthStatus,
  now: number,
): { memory: HealthMemory; event: HealthEvent | undefined } {
  const m: HealthMemory = memory?.sha === sha ? memory : { sha, recorded: undefined, appliedAt: now };
  if (status === 'Current' && m.recorded !== 'healthy')
    return {
      memory: { ...m, recorded: 'healthy' },
      event: { result: 'healthy', seconds: Math.round(now - m.appliedAt) / 1000 },
    };
  if (status === 'Failed' && m.recorded !== 'degraded')
    return { memory: { ...m, recorded: 'degraded' }, event: { result: 'degraded' } };
  return { memory: m, event: undefined };
}
