/**
 * A commit status on GitHub: POST {apiUrl}/repos/{owner}/{repo}/statuses/{sha} with a
 * bearer token, body {state, context: "tether/<app>", description, target_url}. Pure.
 */
import type { GithubNotification } from '../config/types.ts';
import { DESCRIPTION_MAX, oneLine, statusState, type HttpRequest, type Outcome } from './outcome.ts';

export function githubRequest(o: Outcome, cfg: GithubNotification, token: string): HttpRequest | undefined {
  const state = statusState(o.event);
  if (!state || !o.commit) return undefined;
  const url = `${cfg.apiUrl}/repos/${cfg.repository}/statuses/${o.commit}`;
  return {
    method: 'POST',
    url,
    target: `GitHub ${url}`,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'user-agent': 'tether',
      'x-github-api-version': '2022-11-28',
    },
    body: JSON.stringify({
      state,
      context: `tether/${o.app}`,
      description: oneLine(o.message, DESCRIPTION_MAX),
      ...(cfg.targetUrl ? { target_url: cfg.targetUrl } : {}),
    }),
  };
}
