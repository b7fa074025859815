/**
 * What the notifiers are told: one outcome of an app's reconcile, and the HTTP request each
 * notifier makes of it. Pure.
 */
import type { NotifyEvent } from '../config/types.ts';
import type { HealthStatus } from '../health/index.ts';

export type { NotifyEvent };

/**
 * `applying`: a new commit starts being applied. It is the commit statuses' `pending` and is
 * configured as part of `applied` (webhook and Slack have no request for it).
 */
export type OutcomeEvent = NotifyEvent | 'applying';

export interface Outcome {
  app: string;
  event: OutcomeEvent;
  /** The commit's sha; null when no commit was ever loaded. */
  commit: string | null;
  /** The audit log's word for it (applied, healthy, degraded, drift, error, commit-refused, ...). */
  result: string;
  /** The app's health when it happened; null before it was judged. */
  health: HealthStatus | null;
  /** One line for people (already free of secrets). */
  message: string;
  /** ISO 8601. */
  time: string;
}

/** A request as sent: `target` describes the endpoint without any secret (for errors and logs). */
export interface HttpRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
  target: string;
}

/** The event a notifier's `events` list must name for it to be sent this outcome. */
export function configuredAs(event: OutcomeEvent): NotifyEvent {
  return event === 'applying' ? 'applied' : event;
}

/** One line of at most `max` characters: control characters and runs of spaces become one space. */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

export const shortCommit = (sha: string | null): string => (sha ? sha.slice(0, 12) : 'no commit');

/** A commit status's state in the words of both services. */
export type StatusState = 'pending' | 'success' | 'failure';

/**
 * Commit statuses: `pending` when a new commit starts being applied, `success` once it is
 * healthy, `failure` when it degrades, its sync fails, or (report mode) the cluster drifted
 * from it. An apply that heals drift (`applied` of a commit already reported) posts nothing.
 */
export function statusState(event: OutcomeEvent): StatusState | undefined {
  switch (event) {
    case 'applying':
      return 'pending';
    case 'healthy':
      return 'success';
    case 'degraded':
    case 'failed':
    case 'drift':
      return 'failure';
    case 'applied':
      return undefined;
  }
}

/** GitHub limits a status description to 140 characters; GitLab's is shown on one line too. */
export const DESCRIPTION_MAX = 140;
