import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer } from '../../support/git-server.ts';
import { htmlServer, silentServer, tlsProxy } from '../../support/git-fake-servers.ts';
import {
  AuthenticationError,
  ConnectionRefusedError,
  DnsError,
  GitTimeoutError,
  GitPoller,
  InvalidSourceError,
  NotGitServerError,
  RepositoryNotFoundError,
  TlsError,
  readSnapshot,
  resolveCommit,
} from '../../../src/source/index.ts';
import { tempDir } from './helpers.ts';

const PASSWORD = 'pa55-Sup3r-S3cret-t0ken';
const WRONG = 'wr0ng-Pa55-xyzzy-t0ken';
let server: GitServer;
const cache = tempDir('tether-cache-');
let sha: string;

beforeAll(async () => {
  server = await GitServer.start({ auth: { username: 'deploy', password: PASSWORD } });
  sha = server.createRepo('private').commit({ 'a.yaml': 'a\n' }, 'one');
});
afterAll(async () => {
  await server.close();
  cache.dispose();
});

function everything(err: unknown): string {
  const e = err as Error & { hint?: string; cause?: unknown };
  let s = `${e.message}\n${e.hint ?? ''}\n${String(e.cause)}\n${String(e)}\n${e.stack ?? ''}`;
  let c = e.cause as (Error & { cause?: unknown }) | undefined;
  while (c) {
    s += `\n${String(c)}\n${c.stack ?? ''}`;
    c = c.cause as typeof c;
  }
  return s;
}

describe('credentials', () => {
  it('works with credentials in the URL, in the spec, in files and in env vars', async () => {
    expect(
      (await resolveCommit({ repo: server.url('private', { username: 'deploy', password: PASSWORD }) })).sha,
    ).toBe(sha);
    expect(
      (await resolveCommit({ repo: server.url('private'), username: 'deploy', password: PASSWORD })).sha,
    ).toBe(sha);
    const dir = tempDir();
    writeFileSync(join(dir.path, 'username'), 'deploy\n');
    writeFileSync(join(dir.path, 'password'), `${PASSWORD}\n`);
    const fromFiles = {
      repo: server.url('private'),
      usernameFile: join(dir.path, 'username'),
      passwordFile: join(dir.path, 'password'),
      cacheDir: cache.path,
    };
    const snap = await readSnapshot(fromFiles);
    expect(snap.commit.sha).toBe(sha);
    dir.dispose();
    process.env.TETHER_GIT_USERNAME = 'deploy';
    process.env.TETHER_GIT_PASSWORD = PASSWORD;
    try {
      expect((await resolveCommit({ repo: server.url('private') })).sha).toBe(sha);
    } finally {
      delete process.env.TETHER_GIT_USERNAME;
      delete process.env.TETHER_GIT_PASSWORD;
    }
  });

  it('a wrong password is an AuthenticationError that never echoes the password', async () => {
    const url = server.url('private', { username: 'deploy', password: WRONG });
    for (const attempt of [
      () => resolveCommit({ repo: url }),
      () => readSnapshot({ repo: url, cacheDir: cache.path }),
      () =>
        readSnapshot({
          repo: server.url('private'),
          username: 'deploy',
          password: WRONG,
          cacheDir: cache.path,
        }),
      () => new GitPoller({ repo: url, cacheDir: cache.path }).poll(),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthenticationError);
      expect((err as Error).message).toMatch(
        /^authentication failed for http:\/\/127\.0\.0\.1:\d+\/private\.git/,
      );
      expect((err as AuthenticationError).hint).toMatch(/check the username and token/);
      expect(everything(err)).not.toContain(WRONG);
      expect(everything(err)).not.toContain(encodeURIComponent(WRONG));
      expect(everything(err)).not.toContain(Buffer.from(`deploy:${WRONG}`).toString('base64'));
    }
  });

  it('a missing password is an AuthenticationError too', async () => {
    await expect(resolveCommit({ repo: server.url('private') })).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('an unreadable credentials file is named', async () => {
    const err = await resolveCommit({
      repo: server.url('private'),
      passwordFile: '/nonexistent/secret',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSourceError);
    expect((err as Error).message).toContain('/nonexistent/secret');
  });
});

describe('transport failures', () => {
  it('names host:port when the server is down', async () => {
    const s = await GitServer.start();
    s.createRepo('r').commit({ a: 'a' });
    const url = s.url('r', { username: 'u', password: PASSWORD });
    await s.stop();
    const err = await resolveCommit({ repo: url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionRefusedError);
    expect((err as Error).message).toContain(`127.0.0.1:${new URL(url).port}`);
    expect(everything(err)).not.toContain(PASSWORD);
    await s.listen();
    expect((await resolveCommit({ repo: url })).sha).toHaveLength(40);
    await s.close();
  });

  it('tells a missing repository (404) from a missing ref', async () => {
    const err = await resolveCommit({
      repo: server.url('nope'),
      username: 'deploy',
      password: PASSWORD,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepositoryNotFoundError);
    expect((err as Error).message).toContain('/nope.git');
  });

  it('recognizes a server that is not a git server', async () => {
    const html = await htmlServer();
    try {
      const err = await resolveCommit({ repo: html.url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotGitServerError);
      expect((err as Error).message).toContain('an HTML page');
    } finally {
      await html.close();
    }
  });

  it('times out on a server that never answers', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const err = await resolveCommit({ repo: silent.url, timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GitTimeoutError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  it('reports an unresolvable host as a DNS failure', async () => {
    const err = await resolveCommit({
      repo: 'https://git.tether-test.invalid/r.git',
      timeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsError);
  });

  it('refuses unsupported transports', async () => {
    // (ssh:// and git@host:path are supported: test/integration/source/ssh.test.ts)
    await expect(resolveCommit({ repo: 'git://host/repo.git' })).rejects.toBeInstanceOf(InvalidSourceError);
    await expect(resolveCommit({ repo: 'file:///srv/repo.git' })).rejects.toBeInstanceOf(InvalidSourceError);
  });
});

describe('https with a private CA', () => {
  it('fails the TLS handshake without caFile and works with it', async () => {
    const proxy = await tlsProxy(server.baseUrl);
    try {
      const repo = `${proxy.base}/private.git`;
      const err = await resolveCommit({ repo, username: 'deploy', password: PASSWORD }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TlsError);
      expect(everything(err)).not.toContain(PASSWORD);
      const spec = {
        repo,
        username: 'deploy',
        password: PASSWORD,
        caFile: proxy.caFile,
        cacheDir: cache.path,
      };
      expect((await resolveCommit(spec)).sha).toBe(sha);
      expect((await readSnapshot(spec)).files.map((f) => f.path)).toEqual(['a.yaml']);
    } finally {
      await proxy.close();
    }
  });
});
