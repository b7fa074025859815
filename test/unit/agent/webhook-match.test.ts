import { describe, expect, it } from 'vitest';
import { matchApps, normalizeRepoUrl, refMatches } from '../../../src/agent/webhook.ts';

describe('normalizeRepoUrl', () => {
  it.each([
    ['https://git.example.com/org/deploy.git', 'git.example.com/org/deploy'],
    ['https://git.example.com/org/deploy', 'git.example.com/org/deploy'],
    ['https://git.example.com/org/deploy/', 'git.example.com/org/deploy'],
    ['https://git.example.com/org/deploy.git/', 'git.example.com/org/deploy'],
    ['http://GIT.Example.COM/org/deploy', 'git.example.com/org/deploy'],
    ['https://user:token@git.example.com/org/deploy.git', 'git.example.com/org/deploy'],
    ['https://git.example.com:443/org/deploy', 'git.example.com/org/deploy'],
    ['https://git.example.com:8443/org/deploy', 'git.example.com:8443/org/deploy'],
    ['ssh://git@git.example.com/org/deploy.git', 'git.example.com/org/deploy'],
    ['ssh://git@git.example.com:22/org/deploy.git', 'git.example.com/org/deploy'],
    ['git@Git.Example.com:org/deploy.git', 'git.example.com/org/deploy'],
    ['git://git.example.com/org/deploy.git', 'git.example.com/org/deploy'],
    // Paths keep their case; local paths stay as written.
    ['https://git.example.com/Org/Deploy', 'git.example.com/Org/Deploy'],
    ['/srv/git/deploy.git/', '/srv/git/deploy'],
  ])('%s -> %s', (url, normalized) => {
    expect(normalizeRepoUrl(url)).toBe(normalized);
  });
});

describe('refMatches', () => {
  it.each([
    ['main', 'refs/heads/main', true],
    ['refs/heads/main', 'refs/heads/main', true],
    ['v1.0', 'refs/tags/v1.0', true],
    ['main', 'refs/heads/maint', false],
    ['main', 'refs/heads/feature/main', false],
    ['main', 'refs/tags/v1', false],
    [undefined, 'refs/heads/anything', true],
    ['main', undefined, true],
  ] as const)('app %s, push %s: %s', (appRef, eventRef, expected) => {
    expect(refMatches(appRef, eventRef)).toBe(expected);
  });
});

describe('matchApps', () => {
  const apps = [
    { name: 'a', repo: 'https://git.example.com/org/deploy.git', ref: 'main' },
    { name: 'b', repo: 'https://GIT.EXAMPLE.COM/org/deploy/', ref: 'prod' },
    { name: 'c', repo: 'https://git.example.com/org/deploy' },
    { name: 'd', repo: 'https://git.example.com/org/deploy-tools.git', ref: 'main' },
    { name: 'e', repo: 'https://git.example.com/ORG/deploy.git', ref: 'main' },
  ];

  it('matches by normalized URL and ref', () => {
    expect(
      matchApps(apps, { repos: ['git@git.example.com:org/deploy.git'], ref: 'refs/heads/main' }),
    ).toEqual(['a', 'c']);
    expect(
      matchApps(apps, { repos: ['https://x:y@git.example.com/org/deploy'], ref: 'refs/heads/prod' }),
    ).toEqual(['b', 'c']);
  });

  it('a ref mismatch or another repository matches nothing', () => {
    expect(
      matchApps(apps, { repos: ['https://git.example.com/org/other.git'], ref: 'refs/heads/main' }),
    ).toEqual([]);
    expect(
      matchApps(
        apps.filter((a) => a.ref),
        { repos: ['https://git.example.com/org/deploy.git'], ref: 'refs/heads/dev' },
      ),
    ).toEqual([]);
  });

  it('an event without a ref matches every app of the repository, once', () => {
    expect(
      matchApps(apps, {
        repos: ['https://git.example.com/org/deploy.git', 'https://git.example.com/org/deploy'],
      }),
    ).toEqual(['a', 'b', 'c']);
  });
});
