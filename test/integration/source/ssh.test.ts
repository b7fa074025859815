/**
 * Git over SSH against a real OpenSSH server (Debian's sshd on a loopback port) running the
 * real git-upload-pack and git-receive-pack: polling with one connection, fetch and read,
 * the scp-like form, signed commits, `tether revert --push`, `tether sync` into the real API
 * server, and clear refusals for a wrong key and an unknown or changed host key, with the
 * key never printed.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BranchMovedError,
  ConnectionRefusedError,
  GitPoller,
  GitTimeoutError,
  HostKeyError,
  RepositoryNotFoundError,
  SignatureError,
  readSnapshot,
  revertCommit,
  type GitRequestKind,
  type SourceSpec,
} from '../../../src/source/index.ts';
import { createNamespace, kubectl, kubectlJson, tether } from '../../support/cluster.ts';
import type { Repo } from '../../support/git-server.ts';
import { gitAsync, makeSshKey, type SshKey } from '../../support/git-keys.ts';
import { configMap, deployment, service, toYaml } from '../../support/objects.ts';
import { Sshd } from '../../support/sshd.ts';
import { startAgent, waitFor } from '../../support/agent.ts';
import { tempDir, text } from './helpers.ts';

let sshd: Sshd;
let repo: Repo;
let knownHosts: string;
let otherKey: SshKey;
const cache = tempDir('tether-cache-');

beforeAll(async () => {
  sshd = await Sshd.start();
  repo = sshd.createRepo('deploy');
  repo.commit({ 'a.yaml': 'a: 1\n' }, 'one');
  knownHosts = sshd.knownHosts();
  otherKey = await makeSshKey('ed25519');
});
afterAll(async () => {
  repo?.dispose();
  await otherKey?.dispose();
  await sshd?.close();
  cache.dispose();
});

function spec(extra: Partial<SourceSpec> = {}): SourceSpec {
  return {
    repo: sshd.url(repo.bare),
    ref: 'main',
    sshKeyFile: sshd.clientKey.privatePath,
    knownHostsFile: knownHosts,
    cacheDir: cache.path,
    ...extra,
  };
}

/** sshd writes its log asynchronously: let the lines of finished connections arrive. */
const settle = () => new Promise((r) => setTimeout(r, 150));

/** What a failing call threw. */
async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error;
}

/** The lines of a private key file's body: none may ever appear in output. */
function keyLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 20 && !l.startsWith('-----'));
}

function expectNoKeyMaterial(output: string, ...keyFiles: string[]): void {
  expect(output).not.toContain('PRIVATE KEY');
  for (const file of keyFiles) for (const line of keyLines(file)) expect(output).not.toContain(line);
}

describe('polling and reading over ssh://', () => {
  it('a no-change poll is one ssh connection running protocol v2 ls-refs; a new commit is fetched', async () => {
    const kinds: GitRequestKind[] = [];
    const poller = new GitPoller(spec({ onRequest: (k) => kinds.push(k) }));
    const first = await poller.poll();
    expect(first).toEqual({ sha: repo.head(), changed: true });
    // ls-refs, then isomorphic-git's fetch: advertisement, then the upload-pack request.
    expect(kinds).toEqual(['ls-refs', 'discover', 'fetch']);

    await settle();
    const logins = sshd.logins();
    const commands = sshd.commands().length;
    kinds.length = 0;
    for (let i = 0; i < 3; i++) {
      expect(await poller.poll()).toEqual({ sha: first.sha, changed: false, previous: first.sha });
    }
    await settle();
    expect(kinds).toEqual(['ls-refs', 'ls-refs', 'ls-refs']);
    expect(sshd.logins() - logins).toBe(3);
    const polls = sshd.commands().slice(commands);
    expect(polls).toHaveLength(3);
    for (const c of polls) {
      expect(c).toEqual({ protocol: 'version=2', command: `git-upload-pack '${repo.bare}'` });
    }

    const sha = repo.commit({ 'a.yaml': 'a: 2\n', 'b/c.yaml': 'c: 3\n' }, 'two');
    kinds.length = 0;
    const beforeFetch = sshd.commands().length;
    expect(await poller.poll()).toEqual({ sha, changed: true, previous: first.sha });
    expect(kinds).toEqual(['ls-refs', 'discover', 'fetch']);
    // Two connections: the v2 ls-refs, then one upload-pack session that both advertised
    // (isomorphic-git's GET) and answered the fetch (its POST).
    await settle();
    expect(sshd.commands().slice(beforeFetch)).toEqual([
      { protocol: 'version=2', command: `git-upload-pack '${repo.bare}'` },
      { protocol: '', command: `git-upload-pack '${repo.bare}'` },
    ]);
    const snap = await readSnapshot(poller.spec, { sha });
    expect(snap.commit.message.trim()).toBe('two');
    expect(snap.files.map((f) => [f.path, text(f.content)])).toEqual([
      ['a.yaml', 'a: 2\n'],
      ['b/c.yaml', 'c: 3\n'],
    ]);
  });

  it('polls a server that does not pass GIT_PROTOCOL on (protocol v0): still one connection, refs from the advertisement', async () => {
    const v0 = await Sshd.start({ acceptGitProtocol: false });
    const old = v0.createRepo('old');
    try {
      const sha = old.commit({ 'x.yaml': 'x: 1\n' }, 'x');
      old.git(['tag', '-a', '-m', 'release', 'v1']);
      old.git(['push', '--quiet', 'origin', 'v1']);
      const kinds: GitRequestKind[] = [];
      const base = {
        repo: v0.url(old.bare),
        sshKeyFile: v0.clientKey.privatePath,
        knownHostsFile: v0.knownHosts(),
        cacheDir: cache.path,
        onRequest: (k: GitRequestKind) => kinds.push(k),
      };
      const poller = new GitPoller({ ...base, ref: 'main' });
      expect(await poller.poll()).toEqual({ sha, changed: true });
      kinds.length = 0;
      expect(await poller.poll()).toEqual({ sha, changed: false, previous: sha });
      expect(kinds).toEqual(['ls-refs']);
      expect(v0.commands().every((c) => c.protocol === '')).toBe(true);
      // An annotated tag resolves to its commit (peeled from the v0 advertisement).
      const tagged = await readSnapshot({ ...base, ref: 'v1' });
      expect(tagged.commit.sha).toBe(sha);
    } finally {
      old.dispose();
      await v0.close();
    }
  });

  it('reads over the scp-like form, [user@host:port]:path, absolute and home-relative', async () => {
    const home = homedir();
    const where = `${sshd.user}@${sshd.host}:${sshd.port}`;
    const fresh = tempDir('tether-cache-');
    try {
      const abs = await readSnapshot(spec({ repo: `[${where}]:${repo.bare}`, cacheDir: fresh.path }));
      expect(abs.commit.sha).toBe(repo.head());
      const rel = relative(home, repo.bare);
      expect(rel.startsWith('/')).toBe(false);
      const before = sshd.commands().length;
      const viaHome = await readSnapshot(spec({ repo: `[${where}]:${rel}`, cacheDir: fresh.path }));
      expect(viaHome.commit.sha).toBe(repo.head());
      // The path reaches the server relative, quoted as git quotes it.
      expect(sshd.commands().slice(before)[0]?.command).toBe(`git-upload-pack '${rel}'`);
      // Two spellings of two paths: two caches, never one holding the other's objects.
      expect(readdirSync(fresh.path)).toHaveLength(2);
    } finally {
      fresh.dispose();
    }
  });

  it('a key file that others may read (a Secret mount) is used through a private copy, then removed', async () => {
    const dir = tempDir('tether-keymode-');
    try {
      const key = join(dir.path, 'identity');
      copyFileSync(sshd.clientKey.privatePath, key);
      chmodSync(key, 0o644);
      const tmp = join(dir.path, 'tmp');
      mkdirSync(tmp);
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = tmp;
      try {
        const snap = await readSnapshot(spec({ sshKeyFile: key, cacheDir: join(dir.path, 'cache') }));
        expect(snap.commit.sha).toBe(repo.head());
      } finally {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
      }
      await settle();
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      dir.dispose();
    }
  });

  it('verifies an ssh-signed commit fetched over ssh, and refuses one signed by another key', async () => {
    const signer = await makeSshKey('ed25519');
    try {
      const sha = repo.commit({ 'signed.yaml': 'signed: true\n' }, 'signed', signer.gitEnv);
      const ok = await readSnapshot(spec({ verify: { mode: 'required', sshKeys: [signer.publicLine] } }));
      expect(ok.commit.sha).toBe(sha);
      const err = await failure(
        readSnapshot(spec({ verify: { mode: 'required', sshKeys: [otherKey.publicLine] } })),
      );
      expect(err).toBeInstanceOf(SignatureError);
      expect((err as SignatureError).reason).toBe('unknown-key');
    } finally {
      await signer.dispose();
    }
  });
});

describe('refusals over ssh', () => {
  it('a key the server does not accept: AuthenticationError, and the CLI prints no key material', async () => {
    const err = await failure(readSnapshot(spec({ sshKeyFile: otherKey.privatePath })));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toContain('the server refused the key');
    expect(err.message).toContain(otherKey.privatePath);

    const noKey = await failure(readSnapshot(spec({ sshKeyFile: undefined })));
    expect(noKey).toBeInstanceOf(AuthenticationError);
    expect(noKey.message).toContain('no key was given');

    const r = await tether([
      'sync',
      '--repo',
      sshd.url(repo.bare),
      '--ssh-key',
      otherKey.privatePath,
      '--known-hosts',
      knownHosts,
      '-n',
      'default',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ssh authentication failed .*the server refused the key/);
    expectNoKeyMaterial(r.stdout + r.stderr, otherKey.privatePath, sshd.clientKey.privatePath);
  });

  it('an unknown host key (not in known_hosts) is refused, naming the host, the file and the fix', async () => {
    const empty = sshd.knownHosts('empty_known_hosts', []);
    const err = await failure(readSnapshot(spec({ knownHostsFile: empty })));
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as HostKeyError).reason).toBe('unknown');
    expect(err.message).toContain(`[${sshd.host}]:${sshd.port} is not in ${empty}`);
    expect((err as HostKeyError).hint).toContain(`ssh-keyscan -p ${sshd.port} ${sshd.host} >> ${empty}`);

    const r = await tether([
      'sync',
      '--repo',
      sshd.url(repo.bare),
      '--ssh-key',
      sshd.clientKey.privatePath,
      '--known-hosts',
      empty,
      '-n',
      'default',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('unknown ssh host key');
    expectNoKeyMaterial(r.stdout + r.stderr, sshd.clientKey.privatePath);
    // Strict: nothing was added to the file.
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('a changed host key (known_hosts holds another key for the host) is refused', async () => {
    const imposter = await makeSshKey('ed25519');
    try {
      const line = `[${sshd.host}]:${sshd.port} ${imposter.publicLine.split(' ').slice(0, 2).join(' ')}`;
      const changed = sshd.knownHosts('changed_known_hosts', [line]);
      const err = await failure(readSnapshot(spec({ knownHostsFile: changed })));
      expect(err).toBeInstanceOf(HostKeyError);
      expect((err as HostKeyError).reason).toBe('changed');
      expect(err.message).toContain(`the ssh host key of [${sshd.host}]:${sshd.port} changed`);
      expect(err.message).toContain(changed);
      expect(readFileSync(changed, 'utf8')).toBe(line + '\n');
    } finally {
      await imposter.dispose();
    }
  });

  it('a server that accepts connections but never answers times out within the source timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = performance.now();
      const err = await failure(
        readSnapshot(spec({ repo: `ssh://${sshd.user}@127.0.0.1:${port}${repo.bare}`, timeoutMs: 1000 })),
      );
      expect(err).toBeInstanceOf(GitTimeoutError);
      expect(err.message).toContain(`127.0.0.1:${port}`);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('a server that is down, and a repository that does not exist, are named', async () => {
    const closed = `ssh://${sshd.user}@127.0.0.1:1${repo.bare}`;
    const down = await failure(readSnapshot(spec({ repo: closed })));
    expect(down).toBeInstanceOf(ConnectionRefusedError);
    expect(down.message).toContain('connection refused by 127.0.0.1:1');

    const missing = await failure(readSnapshot(spec({ repo: sshd.url('/nonexistent/repo.git') })));
    expect(missing).toBeInstanceOf(RepositoryNotFoundError);
  });
});

describe('the tether CLI over ssh', () => {
  it('tether revert --push lands the revert commit on the ssh server', async () => {
    const bad = repo.commit({ 'a.yaml': 'a: broken\n' }, 'break a');
    const before = repo.head();
    const commandsBefore = sshd.commands().length;
    const r = await tether(
      [
        'revert',
        bad,
        '--repo',
        sshd.url(repo.bare),
        '--ref',
        'main',
        '--ssh-key',
        sshd.clientKey.privatePath,
        '--known-hosts',
        knownHosts,
        '--push',
      ],
      { GIT_AUTHOR_NAME: 'On Call', GIT_AUTHOR_EMAIL: 'oncall@example.com' },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('pushed:');
    const after = repo.head();
    expect(after).not.toBe(before);
    expect(await gitAsync(repo.bare, ['rev-parse', `${after}^`])).toBe(before);
    expect(await gitAsync(repo.bare, ['show', `${after}:a.yaml`])).toBe('a: 2');
    expect(await gitAsync(repo.bare, ['log', '-1', '--format=%an %s', after])).toBe(
      'On Call Revert "break a"',
    );
    // The push is one receive-pack session (advertisement, then commands and pack).
    expect(
      sshd
        .commands()
        .slice(commandsBefore)
        .filter((c) => c.command.startsWith('git-receive-pack')),
    ).toEqual([{ protocol: '', command: `git-receive-pack '${repo.bare}'` }]);
    expectNoKeyMaterial(r.stdout + r.stderr, sshd.clientKey.privatePath);
  });

  it('a push refused because the branch moved meanwhile leaves no ssh session open', async () => {
    const base = repo.commit({ 'd.yaml': 'd: 1\n' }, 'd');
    const target = repo.commit({ 'd.yaml': 'd: 2\n' }, 'd again');
    let moved = '';
    const err = await failure(
      revertCommit(
        spec({
          onRequest: (kind) => {
            // Someone else pushes right when our push starts: isomorphic-git cancels after
            // the advertisement, and the session it opened must still be closed.
            if (kind === 'push' && !moved) moved = repo.commit({ 'e.yaml': 'e\n' }, 'concurrent');
          },
        }),
        target,
        { author: { name: 'Ops', email: 'ops@example.com' }, push: true },
      ),
    );
    expect(err).toBeInstanceOf(BranchMovedError);
    expect(repo.head()).toBe(moved);
    expect(base).not.toBe(moved);
    await waitFor(() => sshd.openSessions() === 0, 5_000, 'ssh sessions to close');
  });

  it('tether sync from another directory applies an app from an ssh:// remote to the API server', async () => {
    const ns = await createNamespace('ssh');
    const app = sshd.createRepo('apps');
    const work = tempDir('tether-ssh-cwd-');
    try {
      const sha = app.commit(
        {
          'apps/web/config.yaml': toYaml(configMap({ name: 'web-config', data: { LOG_LEVEL: 'info' } })),
          'apps/web/deploy.yaml': toYaml(deployment({ name: 'web', image: 'nginx:1.27', replicas: 2 })),
          'apps/web/service.yaml': toYaml(service({ name: 'web' })),
          'apps/other/cm.yaml': toYaml(configMap({ name: 'not-synced', data: { a: 'b' } })),
        },
        'web app',
      );
      // Key and known_hosts relative to the working directory, the key group-readable as a
      // Secret volume mounts it.
      copyFileSync(sshd.clientKey.privatePath, join(work.path, 'deploy-key'));
      chmodSync(join(work.path, 'deploy-key'), 0o440);
      writeFileSync(join(work.path, 'known_hosts'), sshd.knownHostsLine + '\n');
      const args = [
        'sync',
        '--repo',
        sshd.url(app.bare),
        '--path',
        'apps/web',
        '--ssh-key',
        'deploy-key',
        '--known-hosts',
        'known_hosts',
        '--app',
        'web',
        '-n',
        ns.name,
      ];
      const first = await tether(args, {}, work.path);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain(`commit ${sha}`);
      expect(first.stdout).toMatch(/created\s+v1 ConfigMap .*web-config/);
      expect(first.stdout).toMatch(/created\s+apps\/v1 Deployment .*web/);
      expect(first.stdout).toMatch(/created\s+v1 Service .*web/);
      expect(first.stdout).not.toContain('not-synced');
      expectNoKeyMaterial(first.stdout + first.stderr, sshd.clientKey.privatePath);

      const deploy = await kubectlJson<{
        spec: { replicas: number };
        metadata: { labels: Record<string, string> };
      }>(['-n', ns.name, 'get', 'deployment', 'web']);
      expect(deploy.spec.replicas).toBe(2);
      expect(deploy.metadata.labels['app.kubernetes.io/managed-by']).toBe('tether');
      const cm = await kubectlJson<{ data: Record<string, string> }>([
        '-n',
        ns.name,
        'get',
        'configmap',
        'web-config',
      ]);
      expect(cm.data).toEqual({ LOG_LEVEL: 'info' });

      // The same app from a config file whose sshKeyFile/knownHostsFile are relative to it,
      // run from yet another directory: nothing to change.
      mkdirSync(join(work.path, 'conf'));
      writeFileSync(
        join(work.path, 'conf', 'tether.yaml'),
        [
          'apps:',
          '  - name: web',
          '    source:',
          `      repo: ${sshd.url(app.bare)}`,
          '      ref: main',
          '      path: apps/web',
          '      sshKeyFile: ../deploy-key',
          '      knownHostsFile: ../known_hosts',
          `    destination: {namespace: ${ns.name}}`,
          '',
        ].join('\n'),
      );
      const viaConfig = await tether(
        ['diff', '--config', join(work.path, 'conf', 'tether.yaml')],
        {},
        homedir(),
      );
      expect(viaConfig.stderr).not.toContain('error');
      expect(viaConfig.code, viaConfig.stdout + viaConfig.stderr).toBe(0);
    } finally {
      work.dispose();
      app.dispose();
      await ns.cleanup();
    }
  });

  it('tether agent applies from an ssh remote: an idle tick is one ssh connection, a push lands within an interval', async () => {
    const ns = await createNamespace('sshagent');
    const app = sshd.createRepo('agent');
    try {
      const first = app.commit(
        { 'app/cm.yaml': toYaml(configMap({ name: 'settings', data: { v: '1' } })) },
        'first',
      );
      const a = await startAgent({
        apps: `  - name: sshapp
    source:
      repo: "${sshd.url(app.bare)}"
      ref: main
      path: app
      interval: 1s
      sshKeyFile: ${sshd.clientKey.privatePath}
      knownHostsFile: ${knownHosts}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
`,
      });
      try {
        await waitFor(
          async () => (await a.status()).apps[0]!.lastAppliedCommit === first,
          60_000,
          'first apply',
        );
        const before = {
          ticks: (await a.status()).apps[0]!.reconciles,
          lsRefs: await a.metric('tether_git_requests_total', { kind: 'ls-refs' }),
          fetches: await a.metric('tether_git_requests_total', { kind: 'fetch' }),
        };
        await waitFor(
          async () => (await a.status()).apps[0]!.reconciles >= before.ticks + 3,
          30_000,
          'three ticks',
        );
        const ticks = (await a.status()).apps[0]!.reconciles - before.ticks;
        const lsRefs = (await a.metric('tether_git_requests_total', { kind: 'ls-refs' })) - before.lsRefs;
        // Ticks and ls-refs are read in separate requests while ticks go on: one may fall between.
        expect(Math.abs(lsRefs - ticks)).toBeLessThanOrEqual(1);
        expect(await a.metric('tether_git_requests_total', { kind: 'fetch' })).toBe(before.fetches);

        const second = app.commit(
          { 'app/cm.yaml': toYaml(configMap({ name: 'settings', data: { v: '2' } })) },
          'second',
        );
        await waitFor(
          async () => (await a.status()).apps[0]!.lastAppliedCommit === second,
          30_000,
          'second apply',
        );
        expect(await kubectl(['-n', ns.name, 'get', 'cm', 'settings', '-o', 'jsonpath={.data.v}'])).toBe('2');
        expectNoKeyMaterial(a.logs(), sshd.clientKey.privatePath);
      } finally {
        await a.stop('SIGKILL');
      }
    } finally {
      app.dispose();
      await ns.cleanup();
    }
  });
});
