import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../../support/git-server.ts';
import { gitAsync } from '../../support/git-keys.ts';
import {
  BranchMovedError,
  CommitNotOnBranchError,
  MainlineError,
  MissingIdentityError,
  PushRejectedError,
  RevertConflictError,
  readSnapshot,
  revertCommit,
} from '../../../src/source/index.ts';
import { tempDir, text } from './helpers.ts';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

let server: GitServer;
const cache = tempDir('tether-cache-');
const author = { name: 'Reverter', email: 'reverter@example.com' };

beforeAll(async () => {
  server = await GitServer.start();
});
afterAll(async () => {
  await server.close();
  cache.dispose();
});

let n = 0;
function newRepo(): { repo: Repo; name: string } {
  const name = `rev-${n++}`;
  return { repo: server.createRepo(name), name };
}

async function refsOf(bare: string): Promise<string> {
  return gitAsync(bare, ['for-each-ref', '--format=%(refname) %(objectname)']);
}

/** The tree native `git revert` produces for the same revert, for comparison. */
async function nativeRevertTree(bare: string, sha: string, mainline?: number): Promise<string> {
  const work = tempDir();
  try {
    await gitAsync(work.path, ['clone', '--quiet', bare, 'c']);
    const dir = `${work.path}/c`;
    await gitAsync(dir, ['revert', '--no-edit', ...(mainline ? ['-m', String(mainline)] : []), sha]);
    return await gitAsync(dir, ['rev-parse', 'HEAD^{tree}']);
  } finally {
    work.dispose();
  }
}

const IDENTITY_VARS = ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL'];

/** Runs `fn` with no identity in the environment and HOME (the global git config) at `home`. */
async function withoutEnvIdentity<T>(home: string, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(
    [...IDENTITY_VARS, 'HOME', 'XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL'].map((k) => [k, process.env[k]]),
  );
  for (const k of [...IDENTITY_VARS, 'XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL']) delete process.env[k];
  process.env.HOME = home;
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A non-bare repository with `main` checked out: a base commit and the commit to revert. */
async function workRepo(): Promise<{ dir: string; target: string; tip: string; dispose(): void }> {
  const tmp = tempDir('tether-work-');
  const dir = join(tmp.path, 'deploy');
  await gitAsync(tmp.path, ['init', '--quiet', '-b', 'main', dir]);
  writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
  await gitAsync(dir, ['add', '-A']);
  await gitAsync(dir, ['commit', '--quiet', '-m', 'base']);
  writeFileSync(join(dir, 'a.yaml'), 'a: 2\n');
  await gitAsync(dir, ['commit', '--quiet', '-am', 'bump a']);
  const target = await gitAsync(dir, ['rev-parse', 'HEAD']);
  return { dir, target, tip: target, dispose: () => tmp.dispose() };
}

const repoRoot = resolve(import.meta.dirname, '../../..');

/** Runs bin/tether.js as a user would; never throws. */
function tetherCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin/tether.js'), ...args],
      { env: { ...process.env, NO_COLOR: '1', ...env }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        res({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describe('revertCommit', () => {
  it('reverts an earlier commit: exactly the expected tree, nothing else touched, pushed', async () => {
    const { repo, name } = newRepo();
    repo.commit(
      { 'app/a.yaml': 'a: 1\n', 'app/b.yaml': 'b: 1\n', 'other/c.yaml': 'c: 1\n', 'gone.yaml': 'g\n' },
      'base',
    );
    const target = repo.commit(
      { 'app/a.yaml': 'a: 2\n', 'app/new.yaml': 'new\n', 'gone.yaml': null, 'app/deep/x.yaml': 'x\n' },
      'change a, add new, drop gone\n\nbody',
    );
    const later = repo.commit({ 'other/c.yaml': 'c: 2\n', 'app/b.yaml': 'b: 2\n' }, 'later');
    for (let i = 0; i < 60; i++) repo.commit({ [`filler/${i}.txt`]: `${i}\n` }, `filler ${i}`); // beyond the first deepen step
    const tip = repo.head();
    const expectedTree = await nativeRevertTree(repo.bare, target);

    const spec = { repo: server.url(name), ref: 'main', cacheDir: cache.path };
    await readSnapshot(spec); // a shallow cache exists already, as in the agent
    const result = await revertCommit(spec, target, { author, push: true });
    expect(result.pushed).toBe(true);
    expect(result.files).toEqual([
      { path: 'app/a.yaml', action: 'modified' },
      { path: 'app/deep/x.yaml', action: 'deleted' },
      { path: 'app/new.yaml', action: 'deleted' },
      { path: 'gone.yaml', action: 'added' },
    ]);
    expect(repo.head()).toBe(result.sha);
    expect(await gitAsync(repo.bare, ['rev-parse', `${result.sha}^{tree}`])).toBe(expectedTree);
    expect(await gitAsync(repo.bare, ['rev-parse', `${result.sha}^`])).toBe(tip);
    expect(await gitAsync(repo.bare, ['log', '-1', '--format=%an <%ae>%n%B', result.sha])).toBe(
      `Reverter <reverter@example.com>\nRevert "change a, add new, drop gone"\n\nThis reverts commit ${target}.`,
    );
    expect(await gitAsync(repo.bare, ['fsck', '--no-progress'])).toBe('');
    const snap = await readSnapshot(spec);
    expect(snap.commit.sha).toBe(result.sha);
    const files = new Map(snap.files.map((f) => [f.path, text(f.content)]));
    expect(files.get('app/a.yaml')).toBe('a: 1\n');
    expect(files.get('app/b.yaml')).toBe('b: 2\n'); // the later change survives
    expect(files.get('other/c.yaml')).toBe('c: 2\n');
    expect(files.get('gone.yaml')).toBe('g\n');
    expect(later).toHaveLength(40);
    repo.dispose();
  });

  it('writes nothing on conflict and names the conflicting files', async () => {
    const { repo, name } = newRepo();
    repo.commit({ 'a.yaml': '1\n', 'b.yaml': '1\n', 'c.yaml': '1\n' }, 'base');
    const target = repo.commit({ 'a.yaml': '2\n', 'b.yaml': '2\n', 'c.yaml': '2\n' }, 'target');
    repo.commit({ 'a.yaml': '3\n', 'c.yaml': null }, 'later');
    const before = await refsOf(repo.bare);
    const objects = await gitAsync(repo.bare, ['count-objects', '-v']);
    const err = await revertCommit({ repo: server.url(name), cacheDir: cache.path }, target, {
      author,
      push: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RevertConflictError);
    expect((err as RevertConflictError).paths).toEqual(['a.yaml', 'c.yaml']);
    expect((err as Error).message).toContain('a.yaml, c.yaml');
    expect(await refsOf(repo.bare)).toBe(before);
    expect(await gitAsync(repo.bare, ['count-objects', '-v'])).toBe(objects);
    repo.dispose();
  });

  it('needs a mainline for a merge commit, and reverts it with one', async () => {
    const { repo, name } = newRepo();
    repo.commit({ 'a.yaml': '1\n' }, 'base');
    repo.git(['checkout', '--quiet', '-b', 'feature']);
    repo.git(['commit', '--quiet', '--allow-empty', '-m', 'placeholder']);
    const work = repo.git(['rev-parse', '--show-toplevel']);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${work}/feature.yaml`, 'f\n');
    repo.git(['add', '-A']);
    repo.git(['commit', '--quiet', '-m', 'feature']);
    repo.git(['checkout', '--quiet', 'main']);
    repo.git(['merge', '--quiet', '--no-ff', '-m', 'merge feature', 'feature']);
    repo.git(['push', '--quiet', 'origin', 'main']);
    const merge = repo.head();
    const spec = { repo: server.url(name), cacheDir: cache.path };
    await expect(revertCommit(spec, merge, { author, push: true })).rejects.toBeInstanceOf(MainlineError);
    const expectedTree = await nativeRevertTree(repo.bare, merge, 1);
    const r = await revertCommit(spec, merge, { author, push: true, mainline: 1 });
    expect(r.files).toEqual([{ path: 'feature.yaml', action: 'deleted' }]);
    expect(await gitAsync(repo.bare, ['rev-parse', `${r.sha}^{tree}`])).toBe(expectedTree);
    expect(await gitAsync(repo.bare, ['log', '-1', '--format=%B', r.sha])).toContain(
      `, reversing\nchanges made to `,
    );
    repo.dispose();
  });

  it('refuses to push when the branch moved meanwhile (compare-and-swap)', async () => {
    const { repo, name } = newRepo();
    repo.commit({ 'a.yaml': '1\n' }, 'base');
    const target = repo.commit({ 'b.yaml': '1\n' }, 'target');
    let moved = '';
    const spec = {
      repo: server.url(name),
      cacheDir: cache.path,
      onRequest: (kind: string) => {
        // Someone else pushes right when our push starts.
        if (kind === 'push' && !moved) moved = repo.commit({ 'c.yaml': '1\n' }, 'concurrent');
      },
    };
    const err = await revertCommit(spec, target, { author, push: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BranchMovedError);
    expect((err as Error).message).toContain(`moved to ${moved.slice(0, 7)}`);
    expect(repo.head()).toBe(moved);
    repo.dispose();
  });

  it('refuses a commit that is not on the branch', async () => {
    const { repo, name } = newRepo();
    repo.commit({ 'a.yaml': '1\n' }, 'base');
    repo.git(['checkout', '--quiet', '-b', 'side']);
    repo.git(['commit', '--quiet', '--allow-empty', '-m', 'side']);
    repo.git(['push', '--quiet', 'origin', 'side']);
    const side = repo.git(['rev-parse', 'HEAD']);
    repo.git(['checkout', '--quiet', 'main']);
    await expect(
      revertCommit({ repo: server.url(name), cacheDir: cache.path }, side, { author, push: false }),
    ).rejects.toBeInstanceOf(CommitNotOnBranchError);
    repo.dispose();
  });

  it('reverts in a local repository, author from the environment, without push leaves refs alone', async () => {
    const { repo } = newRepo();
    repo.commit({ 'a.yaml': '1\n' }, 'base');
    const target = repo.commit({ 'a.yaml': '2\n' }, 'two');
    const before = await refsOf(repo.bare);
    const home = tempDir('tether-home-'); // no global git config: the committer falls back to the author
    try {
      await withoutEnvIdentity(home.path, async () => {
        process.env.GIT_AUTHOR_NAME = 'Env Author';
        process.env.GIT_AUTHOR_EMAIL = 'env@example.com';
        const dry = await revertCommit({ repo: repo.bare }, target, { push: false });
        expect(dry.pushed).toBe(false);
        expect(await refsOf(repo.bare)).toBe(before);
        const done = await revertCommit({ repo: repo.bare }, target, { push: true });
        expect(repo.head()).toBe(done.sha);
        expect(await gitAsync(repo.bare, ['log', '-1', '--format=%an|%cn', done.sha])).toBe(
          'Env Author|Env Author',
        );
        expect(await gitAsync(repo.bare, ['show', `${done.sha}:a.yaml`])).toBe('1');
      });
    } finally {
      home.dispose();
    }
    repo.dispose();
  });
});

describe('revert in a local repository with a worktree', () => {
  it('refuses to push to the checked-out branch and writes nothing (receive.denyCurrentBranch)', async () => {
    const work = await workRepo();
    try {
      const refsBefore = await refsOf(work.dir);
      const err = await revertCommit({ repo: work.dir, ref: 'main' }, work.target, {
        author,
        push: true,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PushRejectedError);
      expect((err as Error).message).toContain('checked-out branch main');
      expect((err as Error).message).toContain(work.dir);
      expect(await refsOf(work.dir)).toBe(refsBefore);
      expect(await gitAsync(work.dir, ['status', '--porcelain'])).toBe('');
      expect(readFileSync(join(work.dir, 'a.yaml'), 'utf8')).toBe('a: 2\n');

      // The CLI says so and exits non-zero.
      const cli = await tetherCli(['revert', work.target, '--repo', work.dir, '--push'], {
        GIT_AUTHOR_NAME: 'Ops',
        GIT_AUTHOR_EMAIL: 'ops@example.com',
      });
      expect(cli.code).not.toBe(0);
      expect(cli.stderr).toContain('refusing to update the checked-out branch main');
      expect(cli.stderr).toContain('bare repository');
      expect(await refsOf(work.dir)).toBe(refsBefore);
      expect(await gitAsync(work.dir, ['rev-parse', 'HEAD'])).toBe(work.tip);

      // Another branch of the same repository is not checked out: that push goes through.
      await gitAsync(work.dir, ['branch', 'release']);
      const r = await revertCommit({ repo: work.dir, ref: 'release' }, work.target, { author, push: true });
      expect(await gitAsync(work.dir, ['rev-parse', 'release'])).toBe(r.sha);
      expect(await gitAsync(work.dir, ['rev-parse', 'main'])).toBe(work.tip);
    } finally {
      work.dispose();
    }
  });

  it('refuses the branch a linked worktree has checked out', async () => {
    const work = await workRepo();
    try {
      await gitAsync(work.dir, ['checkout', '--quiet', '-b', 'other']);
      await gitAsync(work.dir, ['worktree', 'add', '--quiet', join(work.dir, '..', 'wt'), 'main']);
      const err = await revertCommit({ repo: work.dir, ref: 'main' }, work.target, {
        author,
        push: true,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PushRejectedError);
      expect((err as Error).message).toContain('wt');
      expect(await gitAsync(work.dir, ['rev-parse', 'main'])).toBe(work.tip);
    } finally {
      work.dispose();
    }
  });

  it("takes the author from the repository's git config, then the user's global config", async () => {
    const work = await workRepo();
    const home = tempDir('tether-home-');
    try {
      writeFileSync(
        join(home.path, '.gitconfig'),
        '[user]\n\tname = Global User\n\temail = global@example.com\n',
      );
      await withoutEnvIdentity(home.path, async () => {
        const fromGlobal = await revertCommit({ repo: work.dir }, work.target, { push: false });
        expect(await gitAsync(work.dir, ['log', '-1', '--format=%an <%ae>|%cn <%ce>', fromGlobal.sha])).toBe(
          'Global User <global@example.com>|Global User <global@example.com>',
        );
        await gitAsync(work.dir, ['config', 'user.name', 'Repo User']);
        await gitAsync(work.dir, ['config', 'user.email', 'repo@example.com']);
        const fromRepo = await revertCommit({ repo: work.dir }, work.target, { push: false });
        expect(await gitAsync(work.dir, ['log', '-1', '--format=%an <%ae>|%cn <%ce>', fromRepo.sha])).toBe(
          'Repo User <repo@example.com>|Repo User <repo@example.com>',
        );
        // Explicit values still win over the config.
        const explicit = await revertCommit({ repo: work.dir }, work.target, { author, push: false });
        expect(await gitAsync(work.dir, ['log', '-1', '--format=%an|%cn', explicit.sha])).toBe(
          'Reverter|Repo User',
        );
      });
    } finally {
      home.dispose();
      work.dispose();
    }
  });

  it('says clearly when there is no identity anywhere', async () => {
    const work = await workRepo();
    const home = tempDir('tether-home-');
    try {
      await withoutEnvIdentity(home.path, async () => {
        const err = await revertCommit({ repo: work.dir }, work.target, { push: false }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(MissingIdentityError);
        expect((err as Error & { hint?: string }).hint).toContain('user.name');
      });
    } finally {
      home.dispose();
      work.dispose();
    }
  });

  it('an unpushed revert names its commit and the command that puts it on a branch', async () => {
    const work = await workRepo();
    try {
      const cli = await tetherCli(['revert', work.target, '--repo', work.dir], {
        GIT_AUTHOR_NAME: 'Ops',
        GIT_AUTHOR_EMAIL: 'ops@example.com',
      });
      expect(cli.code).toBe(0);
      const m =
        /the revert is commit ([0-9a-f]{40}), not on any branch yet: (git -C \S+ branch (\S+) \1)/.exec(
          cli.stdout,
        );
      expect(m, cli.stdout).not.toBeNull();
      const [, sha, , branch] = m!;
      expect(branch).toBe(`revert-${sha!.slice(0, 7)}`);
      // The command works as printed.
      await gitAsync(work.dir, ['branch', branch!, sha!]);
      expect(await gitAsync(work.dir, ['show', `${branch}:a.yaml`])).toBe('a: 1');
      expect(await gitAsync(work.dir, ['rev-parse', 'main'])).toBe(work.tip);

      const json = await tetherCli(['revert', work.target, '--repo', work.dir, '-o', 'json'], {
        GIT_AUTHOR_NAME: 'Ops',
        GIT_AUTHOR_EMAIL: 'ops@example.com',
      });
      const parsed = JSON.parse(json.stdout) as { sha: string; branchCommand: string };
      expect(parsed.branchCommand).toContain(`branch revert-${parsed.sha.slice(0, 7)} ${parsed.sha}`);
    } finally {
      work.dispose();
    }
  });
});
