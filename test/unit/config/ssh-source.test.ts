import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appFromFlags, overrideApp, parseConfig } from '../../../src/config/index.ts';
import { appFromConfig } from '../../../src/sync/app.ts';

const CONFIG = `
apps:
  - name: shop
    source:
      repo: git@git.example.com:org/deploy.git
      sshKeyFile: secrets/identity
      knownHostsFile: /etc/tether/known_hosts
`;

describe('ssh keys of a source', () => {
  it('sshKeyFile and knownHostsFile are paths relative to the config file, and reach the SourceSpec', async () => {
    const app = parseConfig(CONFIG, '/etc/tether/tether.yaml').apps[0]!;
    expect(app.source).toMatchObject({
      repo: 'git@git.example.com:org/deploy.git',
      sshKeyFile: '/etc/tether/secrets/identity',
      knownHostsFile: '/etc/tether/known_hosts',
    });
    expect((await appFromConfig(app)).source).toMatchObject({
      sshKeyFile: '/etc/tether/secrets/identity',
      knownHostsFile: '/etc/tether/known_hosts',
    });
  });

  it('--ssh-key and --known-hosts are relative to the working directory and override the config', () => {
    const fromFlags = appFromFlags({ repo: 'ssh://git@h/r.git', sshKey: 'k', knownHosts: 'kh' });
    expect(fromFlags.source).toMatchObject({ sshKeyFile: resolve('k'), knownHostsFile: resolve('kh') });
    const app = parseConfig(CONFIG, '/etc/tether/tether.yaml').apps[0]!;
    const over = overrideApp(app, { sshKey: 'mine' });
    expect(over.source).toMatchObject({
      repo: 'git@git.example.com:org/deploy.git',
      sshKeyFile: resolve('mine'),
      knownHostsFile: '/etc/tether/known_hosts',
    });
  });

  it('an inline key is refused with the key to use instead', () => {
    expect(() =>
      parseConfig(
        'apps:\n  - name: a\n    source: {repo: "git@h:r.git", sshKey: "-----BEGIN"}\n',
        '/etc/tether/tether.yaml',
      ),
    ).toThrow(/sshKeyFile/);
  });
});
