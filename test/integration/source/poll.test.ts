import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../../support/git-server.ts';
import { GitPoller, RefNotFoundError, readSnapshot } from '../../../src/source/index.ts';
import { tempDir, text } from './helpers.ts';

let server: GitServer;
const cache = tempDir('tether-cache-');

beforeAll(async () => {
  server = await GitServer.start();
});
afterAll(async () => {
  await server.close();
  cache.dispose();
});

function fetches(): number {
  return server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack')).length;
}

describe('GitPoller over HTTP', () => {
  let repo: Repo;
  let poller: GitPoller;
  beforeEach(() => {
    const name = `poll-${Math.random().toString(36).slice(2, 8)}`;
    repo = server.createRepo(name);
    repo.commit({ 'a.yaml': 'a: 1\n' }, 'one');
    poller = new GitPoller({ repo: server.url(name), ref: 'main', cacheDir: cache.path });
    return () => repo.dispose();
  });

  it('first poll fetches; a no-change poll makes exactly one request and fetches nothing', async () => {
    const first = await poller.poll();
    expect(first).toEqual({ sha: repo.head(), changed: true });
    server.clearLog();
    for (let i = 0; i < 3; i++) {
      expect(await poller.poll()).toEqual({ sha: first.sha, changed: false, previous: first.sha });
    }
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((r) => r.method === 'POST' && r.status === 200)).toBe(true);
    // The reader of a polled commit needs no request either.
    server.clearLog();
    const snap = await readSnapshot(poller.spec, { sha: first.sha });
    expect(snap.files.map((f) => f.path)).toEqual(['a.yaml']);
    expect(server.requests).toHaveLength(0);
  });

  it('fetches a new commit incrementally (only its new objects)', async () => {
    const bulk: Record<string, string> = {};
    for (let i = 0; i < 200; i++) bulk[`bulk/f${i}.yaml`] = `value: ${i}\n${'x'.repeat(2000)}${i}\n`;
    repo.commit(bulk, 'bulk');
    const a = await poller.poll();
    const sha = repo.commit({ 'a.yaml': 'a: 2\n' }, 'two');
    server.clearLog();
    const b = await poller.poll();
    expect(b).toEqual({ sha, changed: true, previous: a.sha });
    // ls-refs, then isomorphic-git's fetch (discover + upload-pack).
    expect(server.requests.map((r) => `${r.method} ${r.path.split('/').pop()}`)).toEqual([
      'POST git-upload-pack',
      'GET refs',
      'POST git-upload-pack',
    ]);
    const snap = await readSnapshot(poller.spec, { sha: b.sha, include: ['a.yaml'] });
    expect(text(snap.files[0]!.content)).toBe('a: 2\n');
    // The incremental pack is small: it did not resend the 200 unchanged files.
    const { packStats, currentGeneration, repoCacheDir } = await import('../../../src/source/cache.ts');
    const gen = await currentGeneration(repoCacheDir(cache.path, poller.spec.repo));
    const { readdir, stat } = await import('node:fs/promises');
    const packs = (await readdir(`${gen}/objects/pack`)).filter((n) => n.endsWith('.pack'));
    const sizes = await Promise.all(packs.map(async (p) => (await stat(`${gen}/objects/pack/${p}`)).size));
    expect(Math.min(...sizes)).toBeLessThan(2_000);
    expect((await packStats(gen!)).packs).toBe(packs.length);
  });

  it('reports a force-push', async () => {
    const base = repo.head();
    repo.commit({ 'a.yaml': 'a: 2\n' }, 'two');
    await poller.poll();
    repo.git(['reset', '--hard', base]);
    const rewritten = repo.commit({ 'b.yaml': 'b\n' }, 'rewritten');
    const r = await poller.poll();
    expect(r).toMatchObject({ sha: rewritten, changed: true, rewrite: 'force-push' });
    // A later fast-forward is routine again.
    const next = repo.commit({ 'c.yaml': 'c\n' }, 'next');
    expect(await poller.poll()).toEqual({ sha: next, changed: true, previous: rewritten });
  });

  it('treats a multi-commit fast-forward as routine', async () => {
    await poller.poll();
    for (let i = 0; i < 5; i++) repo.commit({ [`f${i}.yaml`]: `${i}\n` }, `c${i}`);
    const r = await poller.poll();
    expect(r.changed).toBe(true);
    expect(r.rewrite).toBeUndefined();
  });

  it('reports a deleted branch, every poll, without losing the last commit', async () => {
    repo.git(['branch', 'feature']);
    repo.git(['push', '--quiet', 'origin', 'feature']);
    const feature = new GitPoller({ repo: poller.spec.repo, ref: 'feature', cacheDir: cache.path });
    const first = await feature.poll();
    repo.git(['push', '--quiet', 'origin', '--delete', 'feature']);
    expect(await feature.poll()).toEqual({
      sha: first.sha,
      changed: true,
      rewrite: 'deleted',
      previous: first.sha,
    });
    expect(await feature.poll()).toMatchObject({ rewrite: 'deleted' });
  });

  it('reports a moved tag', async () => {
    repo.git(['tag', 'release']);
    repo.git(['push', '--quiet', 'origin', 'release']);
    const tagged = new GitPoller({ repo: poller.spec.repo, ref: 'release', cacheDir: cache.path });
    await tagged.poll();
    const moved = repo.commit({ 'a.yaml': 'moved\n' }, 'moved');
    repo.git(['tag', '-f', 'release']);
    repo.git(['push', '--quiet', '--force', 'origin', 'release']);
    expect(await tagged.poll()).toMatchObject({ sha: moved, changed: true, rewrite: 'tag-moved' });
  });

  it('fails clearly when the ref never existed', async () => {
    const p = new GitPoller({ repo: poller.spec.repo, ref: 'never', cacheDir: cache.path });
    await expect(p.poll()).rejects.toBeInstanceOf(RefNotFoundError);
  });

  it('needs no request for a sha-pinned source', async () => {
    const p = new GitPoller({ repo: poller.spec.repo, ref: repo.head(), cacheDir: cache.path });
    await p.poll();
    server.clearLog();
    expect((await p.poll()).changed).toBe(false);
    expect(server.requests).toHaveLength(0);
    expect(fetches()).toBe(0);
  });
});

describe('GitPoller on a local repository', () => {
  it('polls with no transport and detects a force-push', async () => {
    const repo = server.createRepo('local-poll');
    const base = repo.commit({ 'a.yaml': '1\n' }, 'one');
    const poller = new GitPoller({ repo: server.repoPath('local-poll') });
    server.clearLog();
    expect(await poller.poll()).toEqual({ sha: base, changed: true });
    expect(await poller.poll()).toMatchObject({ changed: false });
    const two = repo.commit({ 'a.yaml': '2\n' }, 'two');
    expect(await poller.poll()).toEqual({ sha: two, changed: true, previous: base });
    repo.git(['reset', '--hard', base]);
    const other = repo.commit({ 'b.yaml': '2\n' }, 'other');
    expect(await poller.poll()).toMatchObject({ sha: other, rewrite: 'force-push' });
    expect(server.requests).toHaveLength(0);
    repo.dispose();
  });
});
