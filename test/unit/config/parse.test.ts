import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, parseConfig } from '../../../src/config/index.ts';
import type { TetherConfig } from '../../../src/config/index.ts';
import { defaultApp } from './helpers.ts';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/config');

/** The formatted error lines parseConfig throws for `text`, or a failure if it accepts it. */
function errorLines(text: string): string[] {
  try {
    parseConfig(text, 'tether.yaml');
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    const lines = err.message.split('\n').slice(1);
    expect(lines).toHaveLength(err.errors.length);
    return lines;
  }
  throw new Error('config was accepted');
}

const APP = `apps:\n  - name: shop\n    source: {repo: https://git.example.com/org/deploy.git}\n`;

describe('parseConfig: valid files', () => {
  it('reads every key of a full config, resolving relative paths against its directory', () => {
    const file = join(fixtures, 'full.yaml');
    const config = parseConfig(readFileSync(file, 'utf8'), file);
    const at = (p: string) => join(fixtures, p);
    expect(config).toEqual<TetherConfig>({
      file,
      auditLog: at('audit/tether.jsonl'),
      listen: '0.0.0.0:9191',
      logLevel: 'debug',
      leaderElection: { enabled: true, namespace: 'ops', leaseName: 'tether-a', leaseDurationSeconds: 30 },
      webhooks: [
        { name: 'github', type: 'github', secretFile: at('secrets/github') },
        { name: 'gitlab', type: 'gitlab', secretEnv: 'TETHER_GITLAB_SECRET' },
      ],
      ui: { enabled: true },
      appResources: { enabled: false },
      apps: [
        {
          name: 'shop',
          source: {
            repo: 'https://git.example.com/org/deploy.git',
            ref: 'main',
            path: 'apps/shop',
            intervalMs: 90_000,
            include: ['**/*.yaml'],
            exclude: ['**/*.test.yaml'],
            usernameFile: at('creds/user'),
            passwordFile: '/etc/tether/git/password',
            caFile: at('ca.pem'),
            verify: {
              mode: 'required',
              pgpKeysFile: at('keys/pgp.asc'),
              sshKeysFile: at('keys/allowed_signers'),
            },
          },
          destination: {
            kubeconfig: at('kube/config'),
            context: 'prod',
            namespace: 'shop',
            allowedNamespaces: ['shop', 'shop-jobs'],
          },
          sync: {
            mode: 'report',
            prune: true,
            conflicts: 'force',
            pruneGuard: false,
            suspend: true,
            ignore: [
              {
                paths: ['.spec.replicas'],
                kinds: ['Deployment'],
                names: ['web'],
                managers: ['hpa-controller'],
              },
              { managers: ['kube-controller-manager'] },
            ],
            waveTimeoutMs: 90_000,
          },
          render: {
            allowCommands: true,
            allowRemoteBases: true,
            helmValues: { replicaCount: 3, image: { tag: 'v2' } },
          },
          notifications: [],
        },
      ],
    });
  });

  it('fills in every default for a minimal config', () => {
    const file = join(fixtures, 'minimal.yaml');
    const config = parseConfig(readFileSync(file, 'utf8'), file);
    expect(config).toEqual<TetherConfig>({
      file,
      auditLog: join(fixtures, '.tether/audit.jsonl'),
      listen: '127.0.0.1:9090',
      logLevel: 'info',
      leaderElection: {
        enabled: false,
        namespace: 'tether-system',
        leaseName: 'tether',
        leaseDurationSeconds: 15,
      },
      webhooks: [],
      ui: { enabled: true },
      // A local repository path is relative to the config file too.
      appResources: { enabled: false },
      apps: [defaultApp('shop', resolve(fixtures, '../repos/deploy'))],
    });
    expect(config.apps[0]?.source).not.toHaveProperty('ref');
  });

  it('keeps remote repository URLs as written', () => {
    for (const repo of [
      'https://user@git.example.com/a.git',
      'ssh://git@host/a.git',
      'git@github.com:org/a.git',
    ]) {
      const config = parseConfig(
        `apps:\n  - name: a\n    source: {repo: "${repo}"}\n`,
        '/etc/tether/tether.yaml',
      );
      expect(config.apps[0]?.source.repo).toBe(repo);
    }
  });

  it('accepts IPv6 and hostname listen addresses', () => {
    expect(parseConfig(`listen: "[::1]:9090"\n${APP}`, 't.yaml').listen).toBe('[::1]:9090');
    expect(parseConfig(`listen: localhost:0\n${APP}`, 't.yaml').listen).toBe('localhost:0');
  });
});

describe('parseConfig: errors name file:line:column, the key path and what is allowed', () => {
  it('unknown key at the top level, with a suggestion', () => {
    expect(errorLines(`lisen: 127.0.0.1:9090\n${APP}`)).toEqual([
      'tether.yaml:1:1: lisen: unknown key (did you mean listen?); allowed keys: auditLog, listen, logLevel, leaderElection, webhooks, ui, appResources, apps',
    ]);
  });

  it('unknown nested key', () => {
    const text = `${APP}    sync:\n      mode: apply\n      pruneGaurd: true\n`;
    expect(errorLines(text)).toEqual([
      'tether.yaml:6:7: apps[0].sync.pruneGaurd: unknown key (did you mean pruneGuard?); allowed keys: mode, prune, conflicts, pruneGuard, suspend, ignore, waveTimeout',
    ]);
  });

  it('an inline secret is refused with a pointer to secretFile and secretEnv', () => {
    const text = `webhooks:\n  - {name: gh, type: github, secret: hunter2}\n${APP}`;
    expect(errorLines(text)).toEqual([
      'tether.yaml:2:5: webhooks[0]: missing secretFile or secretEnv (a file or environment variable holding the shared secret)',
      'tether.yaml:2:30: webhooks[0].secret: unknown key (secrets never go in this file: use secretFile or secretEnv); allowed keys: name, type, secretFile, secretEnv',
    ]);
  });

  it('wrong type: YAML 1.1 booleans are strings here', () => {
    expect(errorLines(`${APP}    sync: {prune: yes}\n`)).toEqual([
      'tether.yaml:4:19: apps[0].sync.prune: expected true or false, got the string "yes"',
    ]);
  });

  it('wrong type: a mapping where a list belongs', () => {
    expect(errorLines(`${APP}    destination: {allowedNamespaces: {shop: true}}\n`)).toEqual([
      'tether.yaml:4:38: apps[0].destination.allowedNamespaces: expected a list, got a mapping',
    ]);
  });

  it('a destination namespace outside allowedNamespaces, named or defaulted', () => {
    expect(errorLines(`${APP}    destination: {namespace: shop, allowedNamespaces: [billing]}\n`)).toEqual([
      'tether.yaml:4:30: apps[0].destination.namespace: the destination namespace "shop" is not in allowedNamespaces; add it there, or choose an allowed namespace',
    ]);
    expect(errorLines(`${APP}    destination: {allowedNamespaces: [billing]}\n`)).toEqual([
      'tether.yaml:4:38: apps[0].destination.allowedNamespaces: the destination namespace "default" is not in allowedNamespaces; add it there, or choose an allowed namespace',
    ]);
    expect(() =>
      parseConfig(`${APP}    destination: {namespace: shop, allowedNamespaces: [shop]}\n`, 'tether.yaml'),
    ).not.toThrow();
  });

  it('bad enum value lists the allowed values', () => {
    expect(errorLines(`logLevel: verbose\n${APP}    sync: {mode: aply}\n`)).toEqual([
      'tether.yaml:1:11: logLevel: "verbose" is not allowed; use one of: trace, debug, info, warn, error',
      'tether.yaml:5:18: apps[0].sync.mode: "aply" is not allowed; use one of: apply, report',
    ]);
  });

  it('bad durations: syntax, zero and over 24h', () => {
    const text = [
      'apps:',
      '  - {name: a, source: {repo: r, interval: 30x}}',
      '  - {name: b, source: {repo: r, interval: 0s}}',
      '  - {name: c, source: {repo: r, interval: 24h1s}}',
      '  - {name: d, source: {repo: r, interval: 90}}',
      '',
    ].join('\n');
    expect(errorLines(text)).toEqual([
      'tether.yaml:2:43: apps[0].source.interval: "30x" is not a duration (use e.g. 500ms, 30s, 1m30s, 2h)',
      'tether.yaml:3:43: apps[1].source.interval: "0s" is too short: the interval must be more than 0',
      'tether.yaml:4:43: apps[2].source.interval: "24h1s" is too long: the interval must be at most 24h',
      'tether.yaml:5:43: apps[3].source.interval: expected a duration such as 30s or 1m, got the number 90',
    ]);
  });

  it('duplicate app names name both lines', () => {
    const text = `${APP}  - name: cart\n    source: {repo: r}\n  - name: shop\n    source: {repo: r}\n`;
    expect(errorLines(text)).toEqual([
      'tether.yaml:6:11: apps[2].name: duplicate app name "shop", first defined at line 2 (apps[0].name)',
    ]);
  });

  it('app names must be DNS labels', () => {
    expect(errorLines('apps:\n  - name: Shop_1\n    source: {repo: r}\n')).toEqual([
      `tether.yaml:2:11: apps[0].name: "Shop_1" is not a valid name: at most 63 characters of lowercase letters, digits and '-', starting and ending with a letter or digit`,
    ]);
  });

  it('missing source.repo points at the source mapping', () => {
    expect(errorLines('apps:\n  - name: shop\n    source:\n      ref: main\n')).toEqual([
      'tether.yaml:4:7: apps[0].source.repo: missing required key (a string)',
    ]);
  });

  it('missing apps', () => {
    expect(errorLines('logLevel: info\n')).toEqual([
      'tether.yaml:1:1: missing apps: list at least one app, or set appResources.enabled: true',
    ]);
  });

  it('listen without a port', () => {
    expect(errorLines(`listen: 127.0.0.1\n${APP}`)).toEqual([
      'tether.yaml:1:9: listen: "127.0.0.1" is not host:port (e.g. 127.0.0.1:9090, or 0.0.0.0:9090 for all interfaces)',
    ]);
  });

  it('verify required without keys, bad ignore rules, a path out of the repository', () => {
    const text = [
      'apps:',
      '  - name: shop',
      '    source: {repo: r, path: ../other, verify: {mode: required}}',
      '    sync:',
      '      ignore:',
      '        - {}',
      '        - {paths: [".spec[", "/spec/replicas"]}',
      '',
    ].join('\n');
    expect(errorLines(text)).toEqual([
      'tether.yaml:3:29: apps[0].source.path: "../other" must be a relative path inside the repository, without ".."',
      'tether.yaml:3:47: apps[0].source.verify: mode required needs pgpKeysFile or sshKeysFile: the keys whose signatures are trusted',
      'tether.yaml:6:11: apps[0].sync.ignore[0]: an ignore rule needs paths, kinds, names or managers; an empty rule would ignore everything',
      'tether.yaml:7:20: apps[0].sync.ignore[1].paths[0]: invalid field path ".spec[": expected a field name (or ["..."] for other names) at column 7, found end of text',
    ]);
  });

  it('reports every problem at once, in file order', () => {
    const text = [
      'listen: "9090"',
      'apps:',
      '  - name: shop',
      '    source: {repo: r, interval: soon}',
      '    sync: {mode: apply, prune: "true", extra: 1}',
      '  - name: shop',
      '    destination: {namespace: 5}',
      'webhooks:',
      '  - {name: gh, type: bitbucket, secretFile: f, secretEnv: E}',
      '',
    ].join('\n');
    expect(errorLines(text)).toEqual([
      'tether.yaml:1:9: listen: "9090" is not host:port (e.g. 127.0.0.1:9090, or 0.0.0.0:9090 for all interfaces)',
      'tether.yaml:4:33: apps[0].source.interval: "soon" is not a duration (use e.g. 500ms, 30s, 1m30s, 2h)',
      'tether.yaml:5:32: apps[0].sync.prune: expected true or false, got the string "true"',
      'tether.yaml:5:40: apps[0].sync.extra: unknown key; allowed keys: mode, prune, conflicts, pruneGuard, suspend, ignore, waveTimeout',
      // A missing key points at the mapping that lacks it.
      'tether.yaml:6:5: apps[1].source: missing required key (a mapping)',
      'tether.yaml:6:11: apps[1].name: duplicate app name "shop", first defined at line 3 (apps[0].name)',
      'tether.yaml:7:30: apps[1].destination.namespace: expected a string, got the number 5',
      'tether.yaml:9:22: webhooks[0].type: "bitbucket" is not allowed; use one of: github, gitlab, generic',
      'tether.yaml:9:59: webhooks[0].secretEnv: set only one of secretFile and secretEnv',
    ]);
  });

  it('malformed YAML has a line and column', () => {
    expect(errorLines('apps:\n  - name: shop\n    source: {repo: r\n')).toEqual([
      'tether.yaml:4:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });

  it('duplicate keys, several documents, an empty file, a list', () => {
    expect(errorLines(`listen: a:1\nlisten: b:2\n${APP}`)).toEqual([
      'tether.yaml:2:1: invalid YAML: duplicate key: a key may appear once in a mapping',
    ]);
    expect(errorLines(`${APP}---\n${APP}`)).toEqual([
      'tether.yaml:4:1: invalid YAML: more than one document: a config file holds exactly one (remove the "---")',
    ]);
    expect(errorLines('# nothing\n')).toEqual([
      'tether.yaml:1:1: the file is empty; it needs at least an apps: list',
    ]);
    expect(errorLines('- shop\n')).toEqual(['tether.yaml:1:1: expected a mapping of settings, got a list']);
  });

  it('an alias bomb is stopped', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
          .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
          .join(', ')}]`,
      );
    const [line] = errorLines(`${lines.join('\n')}\n${APP}`);
    expect(line).toMatch(/^tether\.yaml:1:1: invalid YAML: .*alias/i);
  });

  it('ConfigErrors carries structured problems', () => {
    try {
      parseConfig(`logLevel: loud\n${APP}`, 'tether.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigErrors);
      const e = err as ConfigErrors;
      expect(e.errors).toEqual([
        {
          file: 'tether.yaml',
          path: 'logLevel',
          line: 1,
          column: 11,
          message: '"loud" is not allowed; use one of: trace, debug, info, warn, error',
        },
      ]);
      expect(e.message).toBe(
        '1 error in config file tether.yaml:\ntether.yaml:1:11: logLevel: "loud" is not allowed; use one of: trace, debug, info, warn, error',
      );
      expect(e.hint).toBe('fix the config file at the places named above');
    }
  });
});
