import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFlagsError, appFromFlags, defaultAppName } from '../../../src/config/index.ts';
import type { AppConfig } from '../../../src/config/index.ts';
import { defaultApp } from './helpers.ts';

describe('appFromFlags', () => {
  it('builds an app with the config-file defaults', () => {
    const repo = 'https://git.example.com/org/deploy.git';
    expect(appFromFlags({ repo })).toEqual<AppConfig>(defaultApp(defaultAppName(repo), repo));
  });

  it('takes every flag, and resolves a local repository against the working directory', () => {
    const app = appFromFlags({
      repo: 'repos/deploy',
      ref: 'v1.2.0',
      path: 'apps/shop',
      namespace: 'shop',
      app: 'shop',
      mode: 'report',
      prune: true,
    });
    expect(app.name).toBe('shop');
    expect(app.source).toMatchObject({ repo: resolve('repos/deploy'), ref: 'v1.2.0', path: 'apps/shop' });
    expect(app.destination.namespace).toBe('shop');
    expect(app.sync).toMatchObject({ mode: 'report', prune: true });
  });

  it('names the flags that are wrong', () => {
    expect(() => appFromFlags({ repo: 'r', app: 'Shop', mode: 'fast', namespace: 'a_b' })).toThrow(
      new ConfigFlagsError(
        [
          'invalid flags:',
          `--app: "Shop" is not a valid name: at most 63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit`,
          `--namespace: "a_b" is not a valid name: at most 63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit`,
          '--mode: "fast" is not allowed; use one of: apply, report',
        ].join('\n'),
        { hint: 'fix the flags named above (tether <command> --help lists them)' },
      ),
    );
  });
});

/** The readable part and 8 hex digits of the source's identity. */
const named = (readable: string) => new RegExp(`^${readable}-[0-9a-f]{8}$`);

describe('defaultAppName', () => {
  it.each([
    ['https://git.example.com/org/deploy.git', 'deploy'],
    ['https://git.example.com/org/Deploy_Repo/', 'deploy-repo'],
    ['git@github.com:org/shop.git', 'shop'],
    ['/srv/git/cluster config', 'cluster-config'],
    ['/', 'default'],
    ['___', 'default'],
  ])('%s -> %s-<digest>', (repo, name) => {
    expect(defaultAppName(repo)).toMatch(named(name));
  });

  it('tells apart two repositories whose paths end in the same folder', () => {
    const a = defaultAppName('https://git.example.com/team-a/deploy.git', 'clusters/kustomize');
    const b = defaultAppName('https://git.example.com/team-b/deploy.git', 'clusters/kustomize');
    expect(a).toMatch(named('kustomize'));
    expect(b).toMatch(named('kustomize'));
    expect(a).not.toBe(b);
  });

  it('is the same for every spelling of one source: credentials, .git, ssh or https, ./ and trailing slashes', () => {
    const name = defaultAppName('https://git.example.com/org/deploy.git', 'apps/shop');
    expect(defaultAppName('https://bot:token@git.example.com/org/deploy', './apps/shop/')).toBe(name);
    expect(defaultAppName('git@git.example.com:org/deploy.git', 'apps/shop')).toBe(name);
    expect(defaultAppName('ssh://git@git.example.com:2222/org/deploy.git', 'apps/shop')).toBe(name);
    expect(defaultAppName('[git@git.example.com:2222]:org/deploy.git', 'apps/shop')).toBe(name);
    expect(defaultAppName('https://git.example.com/org/deploy.git', 'apps/other')).not.toBe(name);
  });

  it('stays a DNS label for long names', () => {
    const name = defaultAppName('https://h/x.git', `apps/${'a'.repeat(80)}`);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('defaultAppName with a manifests path', () => {
  const repo = 'https://git.example.com/org/deploy.git';

  it.each([
    ['apps/shop', 'shop'],
    ['./apps/shop/', 'shop'],
    ['apps/shop//', 'shop'],
    ['./billing', 'billing'],
    ['clusters/prod/Web_Front', 'web-front'],
    ['shop', 'shop'],
  ])('%s -> %s: the last segment of the path wins over the repository', (path, name) => {
    expect(defaultAppName(repo, path)).toMatch(named(name));
  });

  it.each(['.', './', '', undefined])('%j falls back to the repository name', (path) => {
    expect(defaultAppName(repo, path)).toMatch(named('deploy'));
    expect(defaultAppName('git@github.com:org/shop.git', path)).toMatch(named('shop'));
  });

  it('is default when the last segment leaves no usable label', () => {
    expect(defaultAppName(repo, 'apps/___')).toMatch(named('default'));
  });

  it('names an app built from flags without --app', () => {
    expect(appFromFlags({ repo, path: './apps/shop/' }).name).toBe(defaultAppName(repo, 'apps/shop'));
    expect(appFromFlags({ repo, path: '.' }).name).toMatch(named('deploy'));
  });
});
