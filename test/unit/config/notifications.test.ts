import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { configProblems } from './helpers.ts';

const problems = (text: string) => configProblems(text, '/etc/tether/tether.yaml');

const app = (repo: string, notifications: string) =>
  `apps:\n  - name: shop\n    source: {repo: ${repo}}\n    notifications:\n${notifications}`;

describe('config: notifications per app', () => {
  it('fills in defaults: names from the type, every event, the public API URLs, the project from the repository', () => {
    const config = parseConfig(
      app(
        'git@github.com:org/deploy.git',
        [
          '      - {type: github, tokenFile: gh-token}',
          '      - {type: gitlab, tokenFile: gl-token, project: grp/sub/deploy}',
          '      - {type: webhook, url: "https://hooks.example.com/tether", secretFile: hook, events: [failed, degraded]}',
          '      - {type: slack, urlFile: slack-url}',
          '      - {type: slack, name: ops, url: "https://hooks.slack.com/services/T/B/x"}',
          '',
        ].join('\n'),
      ),
      '/etc/tether/tether.yaml',
    );
    const all = ['applied', 'healthy', 'degraded', 'drift', 'failed'];
    expect(config.apps[0]?.notifications).toEqual([
      {
        type: 'github',
        name: 'github',
        events: all,
        apiUrl: 'https://api.github.com',
        repository: 'org/deploy',
        tokenFile: '/etc/tether/gh-token',
      },
      {
        type: 'gitlab',
        name: 'gitlab',
        events: all,
        apiUrl: 'https://gitlab.com/api/v4',
        project: 'grp/sub/deploy',
        tokenFile: '/etc/tether/gl-token',
      },
      {
        type: 'webhook',
        name: 'webhook',
        events: ['failed', 'degraded'],
        url: 'https://hooks.example.com/tether',
        secretFile: '/etc/tether/hook',
      },
      { type: 'slack', name: 'slack-1', events: all, urlFile: '/etc/tether/slack-url' },
      { type: 'slack', name: 'ops', events: all, url: 'https://hooks.slack.com/services/T/B/x' },
    ]);
  });

  it('derives the GitLab project from a gitlab.com repository', () => {
    const config = parseConfig(
      app('https://gitlab.com/grp/sub/deploy.git', '      - {type: gitlab, tokenFile: t}\n'),
      '/x/tether.yaml',
    );
    expect(config.apps[0]?.notifications[0]).toMatchObject({ project: 'grp/sub/deploy' });
  });

  it('refuses an unknown type, an inline token, a status without its project, a Slack URL given twice', () => {
    expect(
      problems(
        app(
          'https://git.example.com/org/deploy.git',
          [
            '      - {type: teams, url: "https://x"}',
            '      - {type: github, token: abc, tokenFile: t}',
            '      - {type: gitlab, tokenFile: t}',
            '      - {type: slack, url: "https://hooks.slack.com/x", urlFile: f}',
            '      - {type: webhook, url: "ftp://x", secretFile: s, events: [deployed]}',
            '',
          ].join('\n'),
        ),
      ),
    ).toMatchInlineSnapshot(`
      [
        "/etc/tether/tether.yaml:5:16: apps[0].notifications[0].type: type must be one of github, gitlab, webhook, slack",
        "/etc/tether/tether.yaml:6:9: apps[0].notifications[1]: missing repository (owner/repo): the app's repository is not on github.com",
        "/etc/tether/tether.yaml:6:24: apps[0].notifications[1].token: unknown key (secrets never go in this file: use tokenFile); allowed keys: type, name, events, apiUrl, repository, tokenFile, targetUrl",
        "/etc/tether/tether.yaml:7:9: apps[0].notifications[2]: missing project (id or group/project): the app's repository is not on gitlab.com",
        "/etc/tether/tether.yaml:8:9: apps[0].notifications[3]: set exactly one of url and urlFile (the incoming-webhook URL is a secret: urlFile keeps it out of the config)",
        "/etc/tether/tether.yaml:9:30: apps[0].notifications[4].url: "ftp://x" is not an http(s) URL",
        "/etc/tether/tether.yaml:9:65: apps[0].notifications[4].events[0]: "deployed" is not allowed; use one of: applied, healthy, degraded, drift, failed",
      ]
    `);
  });
});
