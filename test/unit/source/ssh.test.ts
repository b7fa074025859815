import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRemote } from '../../../src/source/credentials.ts';
import {
  AuthenticationError,
  ConnectionRefusedError,
  DnsError,
  GitTimeoutError,
  HostKeyError,
  InvalidSourceError,
  ProtocolError,
  RepositoryNotFoundError,
} from '../../../src/source/errors.ts';
import { keyProblem, sshArgs, sshError, type SshTransport } from '../../../src/source/ssh.ts';
import { gitShellQuote, isSshUrl, knownHostsName, parseSshUrl } from '../../../src/source/ssh-url.ts';
import { isRemoteRepo } from '../../../src/config/index.ts';

describe('parseSshUrl', () => {
  it('reads ssh:// URLs: user, host, port, absolute path', () => {
    expect(parseSshUrl('ssh://git@git.example.com:2222/org/repo.git')).toEqual({
      user: 'git',
      host: 'git.example.com',
      port: 2222,
      path: '/org/repo.git',
      canonical: 'ssh://git@git.example.com:2222/org/repo.git',
    });
    expect(parseSshUrl('ssh://host/srv/repo.git/')).toMatchObject({
      user: undefined,
      port: undefined,
      path: '/srv/repo.git',
      canonical: 'ssh://host:22/srv/repo.git',
    });
    expect(parseSshUrl('git+ssh://git@[::1]:22/r.git')).toMatchObject({ host: '::1', port: 22 });
    // ~ names a home directory, as in git: the leading slash is not sent.
    expect(parseSshUrl('ssh://git@h/~/r.git').path).toBe('~/r.git');
    expect(parseSshUrl('ssh://git@h/~alice/r.git').path).toBe('~alice/r.git');
  });

  it('reads scp-like addresses: relative to the home directory, port 22, or bracketed with a port', () => {
    expect(parseSshUrl('git@github.com:org/repo.git')).toEqual({
      user: 'git',
      host: 'github.com',
      port: undefined,
      path: 'org/repo.git',
      canonical: 'ssh://git@github.com:22/~/org/repo.git',
    });
    expect(parseSshUrl('git@h:/srv/r.git')).toMatchObject({ path: '/srv/r.git' });
    expect(parseSshUrl('[git@h:2222]:org/r.git')).toMatchObject({
      user: 'git',
      host: 'h',
      port: 2222,
      path: 'org/r.git',
    });
    expect(parseSshUrl('[h:2222]:/r.git')).toMatchObject({ user: undefined, host: 'h', port: 2222 });
    // The same repository spelled both ways shares one cache key; another path does not.
    expect(parseSshUrl('git@h:org/r.git').canonical).toBe(parseSshUrl('ssh://git@h/~/org/r.git').canonical);
    expect(parseSshUrl('git@h:org/r.git').canonical).not.toBe(parseSshUrl('ssh://git@h/org/r.git').canonical);
  });

  it('tells ssh addresses from https URLs and local paths', () => {
    for (const url of ['ssh://h/r', 'git@h:r.git', '[git@h:22]:r.git', 'SSH://h/r'])
      expect([url, isSshUrl(url), isRemote(url), isRemoteRepo(url)]).toEqual([url, true, true, true]);
    for (const path of ['./repo', '/srv/repo', 'repo:with-colon', 'C:/repos/x', 'https://h/r.git'])
      expect([path, isSshUrl(path)]).toEqual([path, false]);
  });

  it('refuses what could turn into an ssh option, a password, or an empty path', () => {
    for (const bad of [
      'ssh://-oProxyCommand=touch%20x/r.git',
      'ssh://-oProxyCommand=x@h/r.git',
      'git@h:--upload-pack=x',
      'ssh://h:99999/r.git',
      'ssh://h',
      'ssh://h/',
    ]) {
      expect(() => parseSshUrl(bad), bad).toThrow(InvalidSourceError);
    }
    const err = (() => {
      try {
        parseSshUrl('ssh://git:hunter2@h/r.git');
      } catch (e) {
        return e as InvalidSourceError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidSourceError);
    expect(err!.message).not.toContain('hunter2');
  });

  it('quotes paths for the remote shell as git does, and names hosts as known_hosts does', () => {
    expect(gitShellQuote('/org/repo.git')).toBe(`'/org/repo.git'`);
    expect(gitShellQuote(`it's!`)).toBe(`'it'\\''s'\\!''`);
    expect(knownHostsName(parseSshUrl('git@h:r'))).toBe('h');
    expect(knownHostsName(parseSshUrl('ssh://h:2222/r'))).toBe('[h]:2222');
  });
});

const transport = (repo: string, keyFile?: string): SshTransport => ({
  location: parseSshUrl(repo),
  target: { url: repo, credentials: undefined, timeoutMs: 30_000 },
  keyFile,
  knownHostsFile: '/etc/tether/known_hosts',
});

describe('sshArgs', () => {
  it('is an argument vector: no config, no agent, only the key, strict host keys, the quoted command last', () => {
    const args = sshArgs(transport('ssh://git@h:2222/org/r.git'), '/k/id', 'git-upload-pack', true);
    expect(args.slice(0, 2)).toEqual(['-F', '/dev/null']);
    for (const o of [
      'BatchMode=yes',
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
      'IdentityFile=/k/id',
      'StrictHostKeyChecking=yes',
      'UserKnownHostsFile=/etc/tether/known_hosts',
      'GlobalKnownHostsFile=/dev/null',
      'UpdateHostKeys=no',
      'ConnectTimeout=30',
      'SetEnv=GIT_PROTOCOL=version=2',
    ]) {
      expect(args[args.indexOf(o) - 1], o).toBe('-o');
    }
    expect(args.slice(-5)).toEqual(['-p', '2222', '--', 'git@h', `git-upload-pack '/org/r.git'`]);
  });

  it('offers no key when none is given, sets no port for port 22, and speaks v0 for fetch and push', () => {
    const args = sshArgs(transport('git@github.com:org/r.git'), undefined, 'git-receive-pack', false);
    expect(args).toContain('IdentityFile=none');
    expect(args).not.toContain('-p');
    expect(args.some((a) => a.includes('GIT_PROTOCOL'))).toBe(false);
    expect(args.slice(-3)).toEqual(['--', 'git@github.com', `git-receive-pack 'org/r.git'`]);
  });
});

describe('sshError: what OpenSSH says, as typed errors', () => {
  const t = transport('ssh://git@h:2222/org/r.git', '/secrets/identity');
  it('an unknown host key', () => {
    const e = sshError(
      t,
      'No ED25519 host key is known for [h]:2222 and you have requested strict checking.\nHost key verification failed.\n',
      255,
    );
    expect(e).toBeInstanceOf(HostKeyError);
    expect((e as HostKeyError).reason).toBe('unknown');
    expect(e.message).toBe(
      'unknown ssh host key: [h]:2222 is not in /etc/tether/known_hosts; connection refused for ssh://***@h:2222/org/r.git',
    );
    expect(e.hint).toContain('ssh-keyscan -p 2222 h >> /etc/tether/known_hosts');
  });

  it('a changed host key', () => {
    const e = sshError(
      t,
      '@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key for [h]:2222 has changed and you have requested strict checking.\nHost key verification failed.\n',
      255,
    );
    expect(e).toBeInstanceOf(HostKeyError);
    expect((e as HostKeyError).reason).toBe('changed');
    expect(e.message).toContain('the ssh host key of [h]:2222 changed');
  });

  it('a refused key, no key, a server down, a bad host name, a timeout, a missing repository', () => {
    const denied = 'git@h: Permission denied (publickey).\n';
    expect(sshError(t, denied, 255)).toBeInstanceOf(AuthenticationError);
    expect(sshError(t, denied, 255).message).toContain('the server refused the key /secrets/identity');
    expect(sshError({ ...t, keyFile: undefined }, denied, 255).hint).toContain('--ssh-key');
    const down = sshError(t, 'ssh: connect to host h port 2222: Connection refused\n', 255);
    expect(down).toBeInstanceOf(ConnectionRefusedError);
    expect(down.message).toContain('connection refused by h:2222');
    expect(sshError(t, 'ssh: Could not resolve hostname h: Name or service not known\n', 255)).toBeInstanceOf(
      DnsError,
    );
    expect(sshError(t, 'ssh: connect to host h port 2222: Connection timed out\n', 255)).toBeInstanceOf(
      GitTimeoutError,
    );
    expect(sshError(t, "fatal: '/org/r.git' does not appear to be a git repository\n", 128)).toBeInstanceOf(
      RepositoryNotFoundError,
    );
    expect(sshError(t, 'fatal: something else\n', 128)).toBeInstanceOf(ProtocolError);
  });
});

describe('keyProblem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-keyproblem-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keygen = (name: string, passphrase: string, format: string[] = []): string => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, ...format, '-f', join(dir, name)]);
    return readFileSync(join(dir, name), 'utf8');
  };

  it('accepts a plain key, and tells an encrypted key and a public key from it', () => {
    expect(keyProblem(keygen('plain', ''))).toBeUndefined();
    expect(keyProblem(keygen('enc', 'pass phrase'))).toBe('encrypted');
    expect(keyProblem(keygen('pem', 'pass phrase', ['-m', 'PKCS8']))).toBe('encrypted');
    expect(keyProblem(readFileSync(join(dir, 'plain.pub'), 'utf8'))).toBe('not-a-key');
    expect(keyProblem('')).toBe('not-a-key');
  });
});
