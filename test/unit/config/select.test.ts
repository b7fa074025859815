import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AppSelectionError,
  ConfigFlagsError,
  overrideApp,
  parseConfig,
  selectApp,
} from '../../../src/config/index.ts';
import type { AppConfig, TetherConfig } from '../../../src/config/index.ts';

const FILE = '/etc/tether/tether.yaml';

const TWO_APPS = `
apps:
  - name: shop
    source:
      repo: https://git.example.com/org/deploy.git
      ref: main
      path: apps/shop
      interval: 2m
      exclude: ['**/*.test.yaml']
      usernameFile: creds/user
      passwordFile: creds/password
      caFile: /etc/ssl/git-ca.pem
      verify: { mode: required, sshKeysFile: keys/allowed_signers }
    destination:
      kubeconfig: kube/config
      context: prod
      namespace: shop
      allowedNamespaces: [shop, shop-jobs]
    sync:
      mode: report
      prune: true
      conflicts: force
      pruneGuard: false
      ignore:
        - { paths: ['.spec.replicas'], kinds: [Deployment], managers: [hpa-controller] }
  - name: billing
    source: { repo: repos/billing }
`;

const config = (): TetherConfig => parseConfig(TWO_APPS, FILE);
const oneApp = (): TetherConfig => ({ ...config(), apps: [config().apps[1]!] });
const shop = (): AppConfig => selectApp(config(), 'shop');

/** The error `fn` throws, or a failure if it returns. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('nothing was thrown');
}

describe('selectApp', () => {
  it('selects an app by name', () => {
    expect(selectApp(config(), 'shop').name).toBe('shop');
    const billing = selectApp(config(), 'billing');
    expect(billing.name).toBe('billing');
    // The config's own paths resolve against its directory.
    expect(billing.source.repo).toBe('/etc/tether/repos/billing');
  });

  it('selects the only app when --app is not given', () => {
    expect(selectApp(oneApp(), undefined).name).toBe('billing');
  });

  it('refuses to guess among several apps, listing them', () => {
    const err = thrown(() => selectApp(config(), undefined));
    expect(err).toBeInstanceOf(AppSelectionError);
    expect(err.message).toBe(`${FILE} defines 2 apps (shop, billing): choose one`);
    expect((err as AppSelectionError).hint).toBe('add --app shop (or another of them)');
  });

  it('names an unknown app and lists the apps there are', () => {
    const err = thrown(() => selectApp(config(), 'shoop'));
    expect(err).toBeInstanceOf(AppSelectionError);
    expect(err.message).toBe(`${FILE} has no app named "shoop"; its apps: shop, billing`);
    expect((err as AppSelectionError).hint).toBe('pass one of those names with --app');
  });

  it('does not select an unknown name even when there is only one app', () => {
    expect(() => selectApp(oneApp(), 'shop')).toThrow(AppSelectionError);
  });

  it('says "the config file" when the config has no file name', () => {
    const err = thrown(() => selectApp({ ...config(), file: undefined }, 'x'));
    expect(err.message).toBe('the config file has no app named "x"; its apps: shop, billing');
  });
});

describe('overrideApp', () => {
  it('changes nothing without flags', () => {
    expect(overrideApp(shop(), {})).toEqual(shop());
  });

  it('replaces only the ref', () => {
    const app = overrideApp(shop(), { ref: 'v2.0.0' });
    expect(app).toEqual({ ...shop(), source: { ...shop().source, ref: 'v2.0.0' } });
  });

  it('replaces only the path', () => {
    const app = overrideApp(shop(), { path: 'apps/shop-canary' });
    expect(app).toEqual({ ...shop(), source: { ...shop().source, path: 'apps/shop-canary' } });
  });

  it('replaces only the namespace', () => {
    const app = overrideApp(shop(), { namespace: 'shop-staging' });
    expect(app).toEqual({ ...shop(), destination: { ...shop().destination, namespace: 'shop-staging' } });
    // allowedNamespaces, kubeconfig and context stay.
    expect(app.destination).toMatchObject({
      kubeconfig: '/etc/tether/kube/config',
      context: 'prod',
      allowedNamespaces: ['shop', 'shop-jobs'],
    });
  });

  it('replaces the repo; a local one resolves against the working directory, not the config', () => {
    const remote = overrideApp(shop(), { repo: 'https://git.example.com/org/other.git' });
    expect(remote).toEqual({
      ...shop(),
      source: { ...shop().source, repo: 'https://git.example.com/org/other.git' },
    });
    const local = overrideApp(shop(), { repo: 'checkouts/deploy' });
    expect(local.source.repo).toBe(resolve(process.cwd(), 'checkouts/deploy'));
    expect(local.source.repo).not.toBe('/etc/tether/checkouts/deploy');
  });

  it('keeps the name, credentials files, verify policy, ignore rules and sync settings', () => {
    const app = overrideApp(shop(), {
      repo: 'https://git.example.com/org/other.git',
      ref: 'release',
      path: 'apps/shop',
      namespace: 'shop-staging',
    });
    expect(app.name).toBe('shop');
    expect(app.source).toEqual({
      repo: 'https://git.example.com/org/other.git',
      ref: 'release',
      path: 'apps/shop',
      intervalMs: 120_000,
      exclude: ['**/*.test.yaml'],
      usernameFile: '/etc/tether/creds/user',
      passwordFile: '/etc/tether/creds/password',
      caFile: '/etc/ssl/git-ca.pem',
      verify: { mode: 'required', sshKeysFile: '/etc/tether/keys/allowed_signers' },
    });
    expect(app.sync).toEqual({
      mode: 'report',
      prune: true,
      conflicts: 'force',
      pruneGuard: false,
      suspend: false,
      ignore: [{ paths: ['.spec.replicas'], kinds: ['Deployment'], managers: ['hpa-controller'] }],
      waveTimeoutMs: 300_000,
    });
  });

  it('does not change the app it was given', () => {
    const app = shop();
    const before = structuredClone(app);
    overrideApp(app, { ref: 'v2', path: 'x', namespace: 'y', repo: 'https://h/o/r.git' });
    expect(app).toEqual(before);
  });

  it('names a bad --namespace', () => {
    const err = thrown(() => overrideApp(shop(), { namespace: 'a_b' }));
    expect(err).toBeInstanceOf(ConfigFlagsError);
    expect(err.message).toMatch(/^invalid flags:\n--namespace: "a_b" is not a valid name/);
  });

  it('names a bad --path', () => {
    for (const path of ['../x', 'apps/../../x', '/abs']) {
      const err = thrown(() => overrideApp(shop(), { path }));
      expect(err).toBeInstanceOf(ConfigFlagsError);
      expect(err.message).toBe(
        `invalid flags:\n--path: ${JSON.stringify(path)} must be a relative path inside the repository, without ".."`,
      );
    }
  });

  it('names every bad flag, and only the flags given', () => {
    const err = thrown(() => overrideApp(shop(), { namespace: 'a_b', path: '../x', ref: '' }));
    expect(err).toBeInstanceOf(ConfigFlagsError);
    const flags = err.message
      .split('\n')
      .slice(1)
      .map((l) => l.split(':')[0]);
    expect(flags.sort()).toEqual(['--namespace', '--path', '--ref']);
  });
});
