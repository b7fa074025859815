import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type {
  GithubNotification,
  GitlabNotification,
  NotifyEvent,
  WebhookNotification,
} from '../../../src/config/index.ts';
import { githubRequest } from '../../../src/notify/github.ts';
import { gitlabRequest } from '../../../src/notify/gitlab.ts';
import { oneLine, type Outcome } from '../../../src/notify/outcome.ts';
import { slackRequest } from '../../../src/notify/slack.ts';
import { webhookRequest } from '../../../src/notify/webhook.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const ALL: NotifyEvent[] = ['applied', 'healthy', 'degraded', 'drift', 'failed'];

const outcome = (over: Partial<Outcome> = {}): Outcome => ({
  app: 'shop',
  event: 'healthy',
  commit: SHA,
  result: 'healthy',
  health: 'Current',
  message: '0123456789ab is healthy after 1.5s: every object is Current',
  time: '2026-01-02T03:04:05.000Z',
  ...over,
});

const github: GithubNotification = {
  type: 'github',
  name: 'github',
  events: ALL,
  apiUrl: 'https://api.github.com',
  repository: 'org/deploy',
  tokenFile: '/t',
};

const gitlab: GitlabNotification = {
  type: 'gitlab',
  name: 'gitlab',
  events: ALL,
  apiUrl: 'https://gitlab.example.com/api/v4',
  project: 'grp/sub/deploy',
  tokenFile: '/t',
  targetUrl: 'https://tether.example.com/status',
};

describe('GitHub commit status', () => {
  it('POSTs /repos/{owner}/{repo}/statuses/{sha} with the bearer token and context tether/<app>', () => {
    expect(githubRequest(outcome(), github, 'ghp_secret')).toEqual({
      method: 'POST',
      url: `https://api.github.com/repos/org/deploy/statuses/${SHA}`,
      target: `GitHub https://api.github.com/repos/org/deploy/statuses/${SHA}`,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: 'Bearer ghp_secret',
        'content-type': 'application/json',
        'user-agent': 'tether',
        'x-github-api-version': '2022-11-28',
      },
      body: JSON.stringify({
        state: 'success',
        context: 'tether/shop',
        description: '0123456789ab is healthy after 1.5s: every object is Current',
      }),
    });
  });

  it('maps outcomes to pending, success and failure; a heal posts nothing, nor does an outcome without a commit', () => {
    const state = (event: Outcome['event']) => {
      const req = githubRequest(outcome({ event }), github, 't');
      return req && (JSON.parse(req.body) as { state: string }).state;
    };
    expect(
      ['applying', 'applied', 'healthy', 'degraded', 'failed', 'drift'].map((e) =>
        state(e as Outcome['event']),
      ),
    ).toEqual(['pending', undefined, 'success', 'failure', 'failure', 'failure']);
    expect(githubRequest(outcome({ event: 'failed', commit: null }), github, 't')).toBeUndefined();
  });

  it('keeps the description to one line of at most 140 characters', () => {
    const req = githubRequest(
      outcome({ event: 'failed', message: `line one\nline two ${'x'.repeat(200)}` }),
      github,
      't',
    );
    const { description } = JSON.parse(req!.body) as { description: string };
    expect(description).toHaveLength(140);
    expect(description.startsWith('line one line two x')).toBe(true);
    expect(description.endsWith('…')).toBe(true);
    expect(oneLine('a\t\tb\r\n c', 140)).toBe('a b c');
  });
});

describe('GitLab commit status', () => {
  it('POSTs /projects/{url-encoded path}/statuses/{sha} with PRIVATE-TOKEN, name tether/<app>, GitLab state words', () => {
    expect(
      gitlabRequest(
        outcome({ event: 'degraded', message: 'degraded: Deployment shop/web Failed' }),
        gitlab,
        'glpat-x',
      ),
    ).toEqual({
      method: 'POST',
      url: `https://gitlab.example.com/api/v4/projects/grp%2Fsub%2Fdeploy/statuses/${SHA}`,
      target: `GitLab https://gitlab.example.com/api/v4/projects/grp%2Fsub%2Fdeploy/statuses/${SHA}`,
      headers: { 'content-type': 'application/json', 'private-token': 'glpat-x', 'user-agent': 'tether' },
      body: JSON.stringify({
        state: 'failed',
        name: 'tether/shop',
        description: 'degraded: Deployment shop/web Failed',
        target_url: 'https://tether.example.com/status',
      }),
    });
    const state = (event: Outcome['event']) =>
      (JSON.parse(gitlabRequest(outcome({ event }), gitlab, 't')!.body) as { state: string }).state;
    expect([state('applying'), state('healthy'), state('failed')]).toEqual(['pending', 'success', 'failed']);
    expect(gitlabRequest(outcome({ event: 'applied' }), { ...gitlab, project: '42' }, 't')).toBeUndefined();
  });
});

describe('generic webhook', () => {
  const hook: WebhookNotification = {
    type: 'webhook',
    name: 'webhook',
    events: ALL,
    url: 'https://hooks.example.com/tether?token=abc',
    secretFile: '/s',
  };

  it('POSTs the outcome as JSON signed with HMAC-SHA256 of the body', () => {
    const req = webhookRequest(
      outcome({ event: 'drift', result: 'drift', message: 'drift: 1 object' }),
      hook,
      'k3y',
    );
    const body = JSON.stringify({
      app: 'shop',
      event: 'drift',
      commit: SHA,
      result: 'drift',
      health: 'Current',
      message: 'drift: 1 object',
      time: '2026-01-02T03:04:05.000Z',
    });
    expect(req).toEqual({
      method: 'POST',
      url: 'https://hooks.example.com/tether?token=abc',
      target: 'webhook https://hooks.example.com/tether?token=***',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'tether',
        'x-tether-event': 'drift',
        'x-tether-signature-256': `sha256=${createHmac('sha256', 'k3y').update(body).digest('hex')}`,
      },
      body,
    });
    expect(webhookRequest(outcome({ event: 'applying' }), hook, 'k3y')).toBeUndefined();
  });
});

describe('Slack incoming webhook', () => {
  it('POSTs {text} naming the app, the event and the commit; its target names the host only', () => {
    const url = 'https://hooks.slack.com/services/T0/B0/s3cr3t';
    expect(
      slackRequest(outcome({ event: 'failed', message: 'sync of 0123456789ab failed: 1 object(s)' }), url),
    ).toEqual({
      method: 'POST',
      url,
      target: 'Slack webhook on hooks.slack.com',
      headers: { 'content-type': 'application/json', 'user-agent': 'tether' },
      body: JSON.stringify({
        text: ':x: *shop* failed at commit `0123456789ab`: sync of 0123456789ab failed: 1 object(s)',
      }),
    });
    expect(slackRequest(outcome({ event: 'applying' }), url)).toBeUndefined();
  });
});
