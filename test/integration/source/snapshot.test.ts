import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../../support/git-server.ts';
import {
  AmbiguousRefError,
  BrokenSymlinkError,
  PathNotFoundError,
  RefNotFoundError,
  SubmoduleError,
  SymlinkEscapeError,
  describeSource,
  readSnapshot,
  resolveCommit,
} from '../../../src/source/index.ts';
import { commitSymlinks, tempDir, text } from './helpers.ts';

let server: GitServer;
let repo: Repo;
let first: string;
let head: string;
const cache = tempDir('tether-cache-');

beforeAll(async () => {
  server = await GitServer.start();
  repo = server.createRepo('app');
  first = repo.commit(
    {
      'apps/web/deploy.yaml': 'kind: Deployment\n',
      'apps/web/svc.yaml': 'kind: Service\n',
      'apps/web/nested/cm.yaml': 'kind: ConfigMap\n',
      'apps/web/notes.txt': 'not yaml\n',
      'apps/db/db.yaml': 'kind: StatefulSet\n',
      'shared/base.yaml': 'kind: Namespace\n',
      'README.md': '# app\n',
    },
    'first commit\n\nwith a body',
  );
  head = commitSymlinks(repo, {
    'apps/web/base.yaml': '../../shared/base.yaml',
    'apps/web/shared': '../../shared',
  });
  repo.git(['tag', 'v1', first]);
  repo.git(['tag', '-a', 'v1-annotated', '-m', 'annotated', first]);
  repo.git(['push', '--quiet', 'origin', 'v1', 'v1-annotated']);
});

afterAll(async () => {
  await server.close();
  repo.dispose();
  cache.dispose();
});

const spec = (extra: object = {}) => ({ repo: server.url('app'), cacheDir: cache.path, ...extra });

describe('resolveCommit', () => {
  it('resolves the default branch with one request', async () => {
    server.clearLog();
    expect(await resolveCommit(spec())).toEqual({ sha: head, ref: 'refs/heads/main' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/app.git/git-upload-pack' });
  });

  it('resolves branches, tags (peeled) and full refs', async () => {
    expect(await resolveCommit(spec({ ref: 'main' }))).toEqual({ sha: head, ref: 'refs/heads/main' });
    expect(await resolveCommit(spec({ ref: 'v1' }))).toEqual({ sha: first, ref: 'refs/tags/v1' });
    expect(await resolveCommit(spec({ ref: 'v1-annotated' }))).toEqual({
      sha: first,
      ref: 'refs/tags/v1-annotated',
    });
    expect(await resolveCommit(spec({ ref: 'refs/heads/main' }))).toEqual({
      sha: head,
      ref: 'refs/heads/main',
    });
  });

  it('takes a full sha as is, with no request', async () => {
    server.clearLog();
    expect(await resolveCommit(spec({ ref: first }))).toEqual({ sha: first, ref: first });
    expect(server.requests).toHaveLength(0);
  });

  it('reports a missing ref as such (the repository exists)', async () => {
    const err = await resolveCommit(spec({ ref: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefNotFoundError);
    expect((err as Error).message).toContain('ref nope not found');
  });

  it('refuses a name that is both a branch and a tag', async () => {
    repo.git(['branch', 'both']);
    repo.git(['tag', 'both']);
    repo.git(['push', '--quiet', 'origin', 'refs/heads/both', 'refs/tags/both']);
    await expect(resolveCommit(spec({ ref: 'both' }))).rejects.toBeInstanceOf(AmbiguousRefError);
  });
});

describe('readSnapshot', () => {
  it('reads files under a path, recursively, with commit metadata', async () => {
    const snap = await readSnapshot(spec(), { path: 'apps/web' });
    expect(snap.commit.sha).toBe(head);
    expect(snap.commit.parents).toEqual([first]);
    expect(snap.commit.author).toMatchObject({ name: 'Test Author', email: 'author@example.com' });
    expect(snap.commit.committer.name).toBe('Test Committer');
    expect(snap.commit.message).toBe('links');
    expect(new Date(snap.commit.author.time).toISOString()).toBe(snap.commit.author.time);
    expect(snap.files.map((f) => f.path)).toEqual([
      'apps/web/base.yaml',
      'apps/web/deploy.yaml',
      'apps/web/nested/cm.yaml',
      'apps/web/notes.txt',
      'apps/web/shared/base.yaml',
      'apps/web/svc.yaml',
    ]);
    const byPath = new Map(snap.files.map((f) => [f.path, text(f.content)]));
    // In-repo symlinks read as their target's content, under the link's own path.
    expect(byPath.get('apps/web/base.yaml')).toBe('kind: Namespace\n');
    expect(byPath.get('apps/web/shared/base.yaml')).toBe('kind: Namespace\n');
  });

  it('applies include and exclude globs relative to the path', async () => {
    const snap = await readSnapshot(spec(), {
      path: 'apps',
      include: ['**/*.yaml'],
      exclude: ['db/**', '**/nested/**'],
    });
    expect(snap.files.map((f) => f.path)).toEqual([
      'apps/web/base.yaml',
      'apps/web/deploy.yaml',
      'apps/web/shared/base.yaml',
      'apps/web/svc.yaml',
    ]);
  });

  it('reads an older commit by sha and a tag', async () => {
    const bySha = await readSnapshot(spec(), { sha: first, path: 'apps/web' });
    expect(bySha.commit.sha).toBe(first);
    expect(bySha.commit.message).toBe('first commit\n\nwith a body');
    expect(bySha.files.map((f) => f.path)).not.toContain('apps/web/base.yaml');
    const byTag = await readSnapshot(spec({ ref: 'v1-annotated' }), { path: 'shared' });
    expect(byTag.commit.sha).toBe(first);
  });

  it('names path and short commit when the path is missing', async () => {
    const err = await readSnapshot(spec(), { path: 'apps/nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PathNotFoundError);
    expect((err as Error).message).toBe(`path apps/nope not found in commit ${head.slice(0, 7)}`);
  });

  it('reads a local bare repository and a local clone the same as over HTTP', async () => {
    const http = await readSnapshot(spec(), { path: 'apps' });
    const bare = await readSnapshot({ repo: server.repoPath('app') }, { path: 'apps' });
    expect(bare).toEqual(http);
    // A non-bare clone with packed refs (git gc packs them).
    const work = tempDir();
    try {
      const { gitAsync } = await import('../../support/git-keys.ts');
      await gitAsync(work.path, ['clone', '--quiet', server.repoPath('app'), 'clone']);
      await gitAsync(`${work.path}/clone`, ['gc', '--quiet']);
      const clone = await readSnapshot({ repo: `${work.path}/clone`, ref: 'main' }, { path: 'apps' });
      expect(clone).toEqual(http);
      const tagged = await readSnapshot(
        { repo: `${work.path}/clone`, ref: 'v1-annotated' },
        { path: 'apps' },
      );
      expect(tagged.commit.sha).toBe(first);
    } finally {
      work.dispose();
    }
  });

  it('describes a source without credentials', () => {
    expect(describeSource({ repo: 'https://user:s3cret@git.example.com/org/repo.git', ref: 'main' })).toBe(
      'https://git.example.com/org/repo.git@main',
    );
    expect(describeSource({ repo: '/srv/git/repo' })).toBe('/srv/git/repo');
  });
});

describe('symlinks and submodules', () => {
  let evil: Repo;
  beforeAll(() => {
    evil = server.createRepo('evil');
    evil.commit({ 'apps/ok.yaml': 'ok: true\n' }, 'base');
  });
  afterAll(() => evil.dispose());
  const evilSpec = () => ({ repo: server.url('evil'), cacheDir: cache.path });

  it('refuses a symlink leaving the repository, naming file and commit', async () => {
    const sha = commitSymlinks(evil, { 'apps/passwd.yaml': '../../../../etc/passwd' });
    const err = await readSnapshot(evilSpec(), { path: 'apps' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SymlinkEscapeError);
    expect((err as Error).message).toContain(`apps/passwd.yaml (commit ${sha.slice(0, 7)})`);
    evil.commit({ 'apps/passwd.yaml': null }, 'drop');
  });

  it('refuses an absolute symlink', async () => {
    commitSymlinks(evil, { 'apps/abs.yaml': '/etc/hostname' });
    await expect(readSnapshot(evilSpec(), { path: 'apps' })).rejects.toBeInstanceOf(SymlinkEscapeError);
    evil.commit({ 'apps/abs.yaml': null }, 'drop');
  });

  it('refuses a dangling symlink and a symlink loop', async () => {
    commitSymlinks(evil, { 'apps/dangling.yaml': 'missing.yaml' });
    await expect(readSnapshot(evilSpec(), { path: 'apps' })).rejects.toBeInstanceOf(BrokenSymlinkError);
    evil.commit({ 'apps/dangling.yaml': null }, 'drop');
    commitSymlinks(evil, { 'apps/a.yaml': 'b.yaml', 'apps/b.yaml': 'a.yaml' });
    await expect(readSnapshot(evilSpec(), { path: 'apps' })).rejects.toBeInstanceOf(BrokenSymlinkError);
    evil.commit({ 'apps/a.yaml': null, 'apps/b.yaml': null }, 'drop');
    commitSymlinks(evil, { 'apps/self': '.' });
    await expect(readSnapshot(evilSpec(), { path: 'apps' })).rejects.toBeInstanceOf(BrokenSymlinkError);
    evil.commit({ 'apps/self': null }, 'drop');
  });

  it('refuses a submodule where files are read, unless it is excluded or outside the path', async () => {
    const sub = evil.head();
    evil.git(['update-index', '--add', '--cacheinfo', `160000,${sub},apps/vendored`]);
    evil.git(['commit', '--quiet', '-m', 'submodule']);
    evil.git(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const err = await readSnapshot(evilSpec(), { path: 'apps' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmoduleError);
    expect((err as SubmoduleError).message).toContain(`apps/vendored (commit ${evil.head().slice(0, 7)})`);
    expect((err as SubmoduleError).message).toContain(`at commit ${sub.slice(0, 7)}`);
    expect((err as SubmoduleError).hint).toMatch(/vendor the files/);
    // The path named through the submodule, too.
    await expect(readSnapshot(evilSpec(), { path: 'apps/vendored/x' })).rejects.toBeInstanceOf(
      SubmoduleError,
    );
    // Excluded, or unable to hold a wanted file: no reason to refuse.
    const excluded = await readSnapshot(evilSpec(), { path: 'apps', exclude: ['vendored/**'] });
    expect(excluded.files.map((f) => f.path)).toEqual(['apps/ok.yaml']);
    const top = await readSnapshot(evilSpec(), { path: 'apps', include: ['*.yaml'] });
    expect(top.files.map((f) => f.path)).toEqual(['apps/ok.yaml']);
    await expect(readSnapshot(evilSpec(), { path: 'apps', include: ['**/*.yaml'] })).rejects.toBeInstanceOf(
      SubmoduleError,
    );
  });
});
