import { describe, expect, it } from 'vitest';
import type { AppResource } from '../../../src/apps/resource.ts';
import { appConfigOf, rawAppOf, secretsOf, specPath } from '../../../src/apps/to-config.ts';

const app = (spec: AppResource['spec'], name = 'shop', namespace = 'team-a'): AppResource => ({
  metadata: { name, namespace, generation: 1 },
  spec,
});

const noSecrets = () => undefined;

describe('App resource to config app', () => {
  it('maps the spec onto the config keys: name, namespace default, prune and suspend at the top', () => {
    const r = app({
      prune: true,
      suspend: true,
      source: { repo: 'https://git.example.com/org/deploy.git', path: 'apps/shop', interval: '30s' },
      sync: { mode: 'report' },
    });
    const checked = appConfigOf(r, noSecrets);
    expect(checked.problems).toBeUndefined();
    expect(checked.app).toMatchObject({
      name: 'shop',
      source: { repo: 'https://git.example.com/org/deploy.git', path: 'apps/shop', intervalMs: 30_000 },
      destination: { namespace: 'team-a' },
      sync: { mode: 'report', prune: true, suspend: true, pruneGuard: true },
    });
  });

  it('keeps an explicit destination namespace', () => {
    const r = app({ source: { repo: 'https://h/r.git' }, destination: { namespace: 'shop' } });
    expect(appConfigOf(r, noSecrets).app?.destination.namespace).toBe('shop');
  });

  it('turns Secret keys into the files the pipeline reads', () => {
    const r = app({
      source: { repo: 'ssh://git@h/r.git', secretRef: { name: 'git' } },
      notifications: [{ type: 'github', repository: 'org/repo', secretRef: { name: 'gh', key: 'token' } }],
    });
    expect(secretsOf(r)).toEqual([
      { secret: 'git', key: 'username', required: false },
      { secret: 'git', key: 'password', required: false },
      { secret: 'git', key: 'identity', required: false },
      { secret: 'git', key: 'known_hosts', required: false },
      { secret: 'git', key: 'ca.crt', required: false },
      { secret: 'gh', key: 'token', required: true },
    ]);
    const files: Record<string, string> = {
      'git/identity': '/s/git/identity',
      'git/known_hosts': '/s/git/known_hosts',
      'gh/token': '/s/gh/token',
    };
    const fileOf = (s: string, k: string) => files[`${s}/${k}`];
    const raw = rawAppOf(r, fileOf);
    expect(raw['source']).toEqual({
      repo: 'ssh://git@h/r.git',
      sshKeyFile: '/s/git/identity',
      knownHostsFile: '/s/git/known_hosts',
    });
    expect(appConfigOf(r, fileOf).app?.notifications[0]).toMatchObject({
      type: 'github',
      tokenFile: '/s/gh/token',
    });
  });

  it('refuses a notifier whose Secret lacks the key, naming the Secret', () => {
    const r = app({
      source: { repo: 'https://h/r.git' },
      notifications: [
        { type: 'webhook', url: 'https://hooks.example.com/x', secretRef: { name: 'hook', key: 'hmac' } },
      ],
    });
    expect(appConfigOf(r, noSecrets).problems).toContain('Secret team-a/hook has no key "hmac"');
  });

  it('refuses local and file:// repositories and command renderers, which would reach into the agent', () => {
    for (const repo of ['/etc', './repo', 'file:///srv/git/repo.git']) {
      const problems = appConfigOf(app({ source: { repo } }), noSecrets).problems ?? [];
      expect(problems.join('\n')).toContain(
        `spec.source.repo: ${JSON.stringify(repo)} is not a remote repository`,
      );
    }
    const problems = appConfigOf(
      app({ source: { repo: 'https://h/r.git' }, render: { allowCommands: true } }),
      noSecrets,
    ).problems;
    expect(problems?.[0]).toMatch(
      /^spec\.render\.allowCommands: App resources may not enable command renderers/,
    );
  });

  it("names every problem by the App's field, with the config's own checks", () => {
    const r = app(
      {
        source: { repo: 'https://h/r.git', interval: 'soon' },
        sync: { mode: 'aply', ignore: [{}] },
        destination: { namespace: 'shop', allowedNamespaces: ['other'] },
      },
      'Not_A_Name',
    );
    const problems = appConfigOf(r, noSecrets).problems ?? [];
    expect(problems.some((p) => p.startsWith('metadata.name: "Not_A_Name" is not a valid name'))).toBe(true);
    expect(problems.some((p) => p.startsWith('spec.source.interval:'))).toBe(true);
    expect(problems).toContain('spec.sync.mode: "aply" is not allowed; use one of: apply, report');
    expect(problems.some((p) => p.startsWith('spec.sync.ignore[0]: an ignore rule needs'))).toBe(true);
    expect(
      problems.some((p) => p.startsWith('spec.destination.namespace: the destination namespace "shop"')),
    ).toBe(true);
  });

  it('maps config paths back to App fields', () => {
    expect(specPath(['name'])).toBe('metadata.name');
    expect(specPath(['sync', 'prune'])).toBe('spec.prune');
    expect(specPath(['sync', 'suspend'])).toBe('spec.suspend');
    expect(specPath(['source', 'passwordFile'])).toBe('spec.source.secretRef');
    expect(specPath(['source', 'verify', 'pgpKeysFile'])).toBe('spec.source.verify.secretRef');
    expect(specPath(['notifications', 2, 'tokenFile'])).toBe('spec.notifications[2].secretRef');
    expect(specPath(['sync', 'ignore', 0, 'paths', 1])).toBe('spec.sync.ignore[0].paths[1]');
    expect(specPath([])).toBe('spec');
  });
});
