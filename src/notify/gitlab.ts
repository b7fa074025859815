/**
 * A commit status on GitLab: POST {apiUrl}/projects/{id or url-encoded path}/statuses/{sha}
 * with a PRIVATE-TOKEN header, JSON params {state, name: "tether/<app>", description,
 * target_url}. GitLab's states are pending, running, success, failed and canceled. Pure.
 */
import type { GitlabNotification } from '../config/types.ts';
import { DESCRIPTION_MAX, oneLine, statusState, type HttpRequest, type Outcome } from './outcome.ts';

const STATE = { pending: 'pending', success: 'success', failure: 'failed' } as const;

export function gitlabRequest(o: Outcome, cfg: GitlabNotification, token: string): HttpRequest | undefined {
  const state = statusState(o.event);
  if (!state || !o.commit) return undefined;
  const url = `${cfg.apiUrl}/projects/${encodeURIComponent(cfg.project)}/statuses/${o.commit}`;
  return {
    method: 'POST',
    url,
    target: `GitLab ${url}`,
    headers: { 'content-type': 'application/json', 'private-token': token, 'user-agent': 'tether' },
    body: JSON.stringify({
      state: STATE[state],
      name: `tether/${o.app}`,
      description: oneLine(o.message, DESCRIPTION_MAX),
      ...(cfg.targetUrl ? { target_url: cfg.targetUrl } : {}),
    }),
  };
}
