/**
 * A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, ...): POST {text}. The
 * URL is the secret, so errors and logs name only its host. Pure.
 */
import type { HttpRequest, Outcome } from './outcome.ts';
import { oneLine, shortCommit } from './outcome.ts';

const ICON: Record<string, string> = {
  applied: ':arrows_counterclockwise:',
  healthy: ':white_check_mark:',
  degraded: ':warning:',
  drift: ':mag:',
  failed: ':x:',
};

export function slackText(o: Outcome): string {
  const commit = o.commit ? `commit \`${shortCommit(o.commit)}\`` : 'no commit';
  return `${ICON[o.event] ?? ''} *${o.app}* ${o.event} at ${commit}: ${oneLine(o.message, 500)}`.trim();
}

export function slackRequest(o: Outcome, url: string): HttpRequest | undefined {
  if (o.event === 'applying') return undefined;
  let host = 'the incoming webhook';
  try {
    host = new URL(url).host;
  } catch {
    // An unparseable URL fails at send time; its text is never shown.
  }
  return {
    method: 'POST',
    url,
    target: `Slack webhook on ${host}`,
    headers: { 'content-type': 'application/json', 'user-agent': 'tether' },
    body: JSON.stringify({ text: slackText(o) }),
  };
}
