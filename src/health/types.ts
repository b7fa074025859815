/**
 * Health words, as kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) and Flux use them:
 * - Current: the live object matches its spec and its controller is done with it.
 * - InProgress: a controller is still working towards the spec (or has not looked yet).
 * - Failed: the controller reports an error or no progress; waiting longer will not help.
 * - Terminating: the object has a deletionTimestamp.
 * - NotFound: there is no live object.
 * - Unknown: the object cannot be judged (malformed status, a phase no rule knows).
 */
export type HealthStatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating' | 'NotFound' | 'Unknown';

/** The health of one object: a status, a short CamelCase reason where one applies, and a sentence. */
export interface Health {
  status: HealthStatus;
  reason?: string;
  message: string;
}

/** Inputs that are not part of the object. */
export interface HealthOptions {
  /**
   * The time to judge at. Only time-dependent rule: a Pod that the scheduler has not placed
   * for more than 15 s after its creation is Failed (kstatus' schedule window). Without `now`
   * such a Pod stays InProgress, so that the result depends on the object alone.
   */
  now?: Date;
}

export function current(message: string, reason?: string): Health {
  return reason === undefined ? { status: 'Current', message } : { status: 'Current', reason, message };
}

export function inProgress(reason: string, message: string): Health {
  return { status: 'InProgress', reason, message };
}

export function failed(reason: string, message: string): Health {
  return { status: 'Failed', reason, message };
}

/** Thrown by the readers when a field has a shape no rule can judge; healthOf turns it into Unknown. */
export class Unjudgeable extends Error {
  override name = 'Unjudgeable';
}
