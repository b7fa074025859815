/**
 * Revisions as git takes them (HEAD~2, rev^, merge^2, tags, short shas) against a real
 * repository on disk and over git's smart HTTP, with git rev-parse as the oracle; then the
 * CLI as a user runs it: diff --base, --ref and revert with short shas and HEAD~N.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AmbiguousRevisionError,
  GitPoller,
  InvalidRevisionError,
  RevisionNotFoundError,
  readSnapshot,
  resolveCommit,
  type SourceSpec,
} from '../../../src/source/index.ts';
import { createNamespace, jsonpath, tether } from '../../support/cluster.ts';
import type { Repo } from '../../support/git-server.ts';
import { configMap, toYaml } from '../../support/objects.ts';
import { gitServerSuite } from '../../support/suite.ts';
import { tempDir, text } from './helpers.ts';

/** A commit on top of HEAD (same tree) whose sha starts with `prefix`, found by brute force. */
export function commitWithPrefix(repo: Repo, prefix: string): string {
  const work = repo.git(['rev-parse', '--show-toplevel']);
  const tip = repo.git(['rev-parse', 'HEAD']);
  const tree = repo.git(['rev-parse', 'HEAD^{tree}']);
  const who = 'Test Author <author@example.com> 1700000000 +0000';
  for (let i = 0; ; i++) {
    const body = `tree ${tree}\nparent ${tip}\nauthor ${who}\ncommitter ${who}\n\ncollide ${i}\n`;
    const sha = createHash('sha1')
      .update(`commit ${Buffer.byteLength(body)}\0${body}`)
      .digest('hex');
    if (!sha.startsWith(prefix)) continue;
    const written = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], {
      cwd: work,
      input: body,
    })
      .toString()
      .trim();
    expect(written).toBe(sha);
    repo.git(['reset', '--quiet', '--hard', sha]);
    repo.git(['push', '--quiet', 'origin', `HEAD:refs/heads/${repo.branch}`]);
    return sha;
  }
}

/** Commits a new file on the checked-out `branch` and pushes that branch (Repo.commit pushes main). */
function commitOn(repo: Repo, branch: string, file: string, message: string): string {
  const work = repo.git(['rev-parse', '--show-toplevel']);
  writeFileSync(join(work, file), `${message}: 1\n`);
  repo.git(['add', '-A']);
  repo.git(['commit', '--quiet', '-m', message]);
  repo.git(['push', '--quiet', 'origin', branch]);
  return repo.git(['rev-parse', 'HEAD']);
}

/** What git itself makes of `rev` in the bare repository. */
function gitRevParse(repo: Repo, rev: string): string {
  return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd: repo.bare })
    .toString()
    .trim();
}

describe('revisions', () => {
  const suite = gitServerSuite();
  let repo: Repo;
  const sha: Record<string, string> = {};
  /** A fresh cache directory, so that a remote lookup starts from an empty cache. */
  const cacheDir = (): string => {
    const dir = tempDir('tether-rev-cache-');
    suite.cleanups.push(() => Promise.resolve(dir.dispose()));
    return dir.path;
  };

  /*
   *   c1 (v1) - c2 (light) - c3 - merge (tag merge) - collide (main)
   *                \               /
   *                 s1 ----------- (side)
   *   lone: a commit only on branch lone, never merged; tagged-only: one only a tag reaches
   */
  const setup = (): void => {
    if (repo) return;
    repo = suite.git().createRepo('revs');
    sha.c1 = repo.commit({ 'app/a.yaml': 'a: 1\n' }, 'c1');
    repo.git(['tag', '-a', 'v1', '-m', 'release 1']);
    sha.c2 = repo.commit({ 'app/a.yaml': 'a: 2\n' }, 'c2');
    repo.git(['tag', 'light']);
    repo.git(['checkout', '--quiet', '-b', 'side']);
    sha.s1 = commitOn(repo, 'side', 'app/s.yaml', 's1');
    repo.git(['checkout', '--quiet', 'main']);
    sha.c3 = repo.commit({ 'app/a.yaml': 'a: 3\n' }, 'c3');
    repo.git(['merge', '--quiet', '--no-ff', '-m', 'merge side', 'side']);
    repo.git(['tag', 'merge']);
    repo.git(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    sha.merge = repo.head();
    // A commit whose sha starts with the same 4 hex digits as c2's.
    sha.collide = commitWithPrefix(repo, sha.c2.slice(0, 4));
    repo.git(['checkout', '--quiet', '-b', 'lone', sha.c1]);
    sha.lone = commitOn(repo, 'lone', 'app/lone.yaml', 'lone');
    // A commit that only a tag reaches, no branch.
    repo.git(['checkout', '--quiet', '--detach', sha.c1]);
    repo.git(['commit', '--quiet', '--allow-empty', '-m', 'tagged only']);
    repo.git(['tag', 'tagged-only']);
    sha.tagged = repo.git(['rev-parse', 'HEAD']);
    repo.git(['checkout', '--quiet', 'main']);
    repo.git(['push', '--quiet', 'origin', 'v1', 'light', 'merge', 'tagged-only']);
  };

  /** 4 hex digits that start exactly one commit of the repository, one of main's. */
  const unique4 = (): string => {
    const list = (rev: string): string[] =>
      execFileSync('git', ['rev-list', rev], { cwd: repo.bare }).toString().trim().split('\n');
    const all = list('--all').map((s) => s.slice(0, 4));
    const unique = (p: string): boolean => all.filter((q) => q === p).length === 1;
    return list('main')
      .map((s) => s.slice(0, 4))
      .find(unique)!;
  };

  const sources: [string, () => SourceSpec][] = [
    ['a repository on disk', () => ({ repo: repo.bare })],
    ['a remote over smart HTTP', () => ({ repo: suite.git().url('revs'), cacheDir: cacheDir() })],
  ];

  describe.each(sources)('in %s', (_, specOf) => {
    it('resolves ~N, ^, ^N on a merge, tags (annotated and light) and short shas as git does', async () => {
      setup();
      const spec = specOf();
      const revs = [
        'HEAD',
        'HEAD~2',
        'main~3',
        'HEAD^',
        'merge^2',
        'merge^1',
        'merge^2~1',
        'HEAD~1^2',
        'v1',
        'v1^{}',
        'light',
        'light~1',
        'side^',
        '@~1',
        unique4(),
        sha.c2!.slice(0, 7),
        `${sha.c3!.slice(0, 7)}^`,
        sha.merge!,
      ];
      for (const ref of revs) {
        expect((await resolveCommit({ ...spec, ref })).sha, ref).toBe(gitRevParse(repo, ref));
      }
      expect((await resolveCommit({ ...spec, ref: 'merge^2' })).sha).toBe(sha.s1);
    });

    it('reads the files of a revision', async () => {
      setup();
      const snap = await readSnapshot({ ...specOf(), ref: 'HEAD~3' }, { path: 'app' });
      expect(snap.commit.sha).toBe(sha.c2);
      expect(snap.files.map((f) => [f.path, text(f.content)])).toEqual([['app/a.yaml', 'a: 2\n']]);
    });

    it('refuses an ambiguous short sha, listing the candidates with their subjects', async () => {
      setup();
      const prefix = sha.c2!.slice(0, 4);
      const err = await resolveCommit({ ...specOf(), ref: prefix }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AmbiguousRevisionError);
      const e = err as AmbiguousRevisionError;
      expect(e.candidates.map((c) => c.sha).sort()).toEqual([sha.c2, sha.collide].sort());
      expect(e.message).toContain(`short sha ${prefix} is ambiguous`);
      expect(e.message).toContain('(c2)');
      expect(e.message).toContain('(collide ');
      expect(e.hint).toMatch(/more digits/);
    });

    it('says what it tried when a revision names nothing', async () => {
      setup();
      const spec = specOf();
      await expect(resolveCommit({ ...spec, ref: 'HEAD~9' })).rejects.toThrow(/root commit/);
      await expect(resolveCommit({ ...spec, ref: 'HEAD~9' })).rejects.toBeInstanceOf(RevisionNotFoundError);
      await expect(resolveCommit({ ...spec, ref: 'v1^2' })).rejects.toThrow(/has 0 parent\(s\), not 2/);
      await expect(resolveCommit({ ...spec, ref: 'fade0' })).rejects.toThrow(
        /no commit whose sha starts with fade0/,
      );
      await expect(resolveCommit({ ...spec, ref: 'nobranch~1' })).rejects.toBeInstanceOf(
        RevisionNotFoundError,
      );
      await expect(resolveCommit({ ...spec, ref: 'main..side' })).rejects.toBeInstanceOf(
        InvalidRevisionError,
      );
    });
  });

  it('finds a short sha off the default branch; a remote says what it searched when none has it', async () => {
    setup();
    const remote = { repo: suite.git().url('revs'), cacheDir: cacheDir() };
    const lone = sha.lone!.slice(0, 7);
    expect((await resolveCommit({ repo: repo.bare, ref: lone })).sha).toBe(sha.lone);
    expect((await resolveCommit({ ...remote, ref: lone })).sha).toBe(sha.lone); // main first, then the other branches
    expect((await resolveCommit({ ...remote, ref: `${lone}~1` })).sha).toBe(sha.c1);
    // Reached by a tag only: on disk every object counts; a remote searches its branches.
    const tagged = sha.tagged!.slice(0, 7);
    expect((await resolveCommit({ repo: repo.bare, ref: tagged })).sha).toBe(sha.tagged);
    const err = await resolveCommit({ ...remote, ref: tagged }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RevisionNotFoundError);
    expect((err as Error).message).toContain(
      `no commit whose sha starts with ${tagged} in the fetched history of its branches`,
    );
    expect((await resolveCommit({ ...remote, ref: 'tagged-only' })).sha).toBe(sha.tagged);
  });

  it('pins a fixed revision in the poller, as it does a sha', async () => {
    setup();
    const poller = new GitPoller({
      repo: suite.git().url('revs'),
      cacheDir: cacheDir(),
      ref: 'HEAD~1',
    });
    const first = await poller.poll();
    expect(first.sha).toBe(gitRevParse(repo, 'HEAD~1'));
    repo.commit({ 'app/a.yaml': 'a: 4\n' }, 'c4'); // HEAD~1 of the branch moves; the pin does not
    expect(await poller.poll()).toEqual({ sha: first.sha, changed: false, previous: first.sha });
  });
});

describe('revisions on the command line', () => {
  const suite = gitServerSuite();
  let repo: Repo;
  let ns: string;
  const sha: Record<string, string> = {};
  const short = (name: string): string => sha[name]!.slice(0, 7);
  const cm = (name: string, v: string): string => toYaml(configMap({ name, data: { v } }));
  const elsewhere = tempDir('tether-cwd-');

  beforeAll(async () => {
    repo = suite.git().createRepo('cli');
    const made = await createNamespace('rev');
    ns = made.name;
    suite.cleanups.push(made.cleanup, () => Promise.resolve(elsewhere.dispose()));
    sha.a = repo.commit({ 'apps/shop/a.yaml': cm('a', '1') }, 'add a');
    sha.b = repo.commit({ 'apps/shop/b.yaml': cm('b', '1') }, 'add b');
    sha.c = repo.commit({ 'apps/shop/a.yaml': cm('a', '2') }, 'bump a');
  });

  const app = (repoArg: string, ...extra: string[]): string[] => [
    '--repo',
    repoArg,
    '--path',
    'apps/shop',
    '-n',
    ns,
    '--app',
    'rev-cli',
    ...extra,
  ];

  it('diff --base HEAD~1 and --base <short sha>, run from another directory', async () => {
    const one = await tether(['diff', ...app(repo.bare, '--base', 'HEAD~1')], {}, elsewhere.path);
    expect(one.stderr).toBe('');
    expect(one.code).toBe(1); // nothing applied yet: differences
    expect(one.stdout).toContain(`range ${short('b')}..${short('c')} touched 1 object(s):`);
    expect(one.stdout).toContain('modified v1 ConfigMap a  (apps/shop/a.yaml)');
    const two = await tether(['diff', ...app(repo.bare, '--base', short('a'))], {}, elsewhere.path);
    expect(two.code, two.stderr).toBe(1);
    expect(two.stdout).toContain(`range ${short('a')}..${short('c')} touched 2 object(s):`);
    // Over HTTP, with the head a revision too.
    const url = suite.git().url('cli');
    const json = await tether(
      ['diff', ...app(url, '--ref', 'HEAD~1', '--base', sha.a!.slice(0, 5), '-o', 'json')],
      {
        TETHER_CACHE_DIR: elsewhere.path,
      },
    );
    expect(json.code, json.stderr).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ commit: sha.b, base: sha.a });
  });

  it('sync --ref <short sha>, then revert <short sha> --push', async () => {
    const synced = await tether(['sync', ...app(repo.bare, '--ref', short('b'))], {}, elsewhere.path);
    expect(synced.code, synced.stderr).toBe(0);
    expect(await jsonpath(ns, 'configmap', 'a', '{.data.v}')).toBe('1');
    const env = { GIT_AUTHOR_NAME: 'Ops', GIT_AUTHOR_EMAIL: 'ops@example.com' };
    const reverted = await tether(
      ['revert', short('c'), '--repo', repo.bare, '--ref', 'main', '--push'],
      env,
      elsewhere.path,
    );
    expect(reverted.code, reverted.stderr).toBe(0);
    expect(reverted.stdout).toContain(`reverts ${short('c')} on`);
    expect(reverted.stdout).toContain('pushed');
    const tip = repo.head();
    expect(execFileSync('git', ['show', `${tip}:apps/shop/a.yaml`], { cwd: repo.bare }).toString()).toBe(
      cm('a', '1'),
    );
    expect(execFileSync('git', ['log', '-1', '--format=%B', tip], { cwd: repo.bare }).toString()).toContain(
      `This reverts commit ${sha.c}`,
    );
    repo.git(['pull', '--quiet', '--ff-only', 'origin', 'main']);
  });

  it('sync --prune refuses a commit whose path holds a submodule, and deletes nothing', async () => {
    const synced = await tether(['sync', ...app(repo.bare, '--prune')], {}, elsewhere.path);
    expect(synced.code, synced.stderr).toBe(0);
    expect(await jsonpath(ns, 'configmap', 'b', '{.data.v}')).toBe('1');
    // b.yaml moves into a submodule (a gitlink to some commit of another repository).
    repo.git(['rm', '--quiet', 'apps/shop/b.yaml']);
    repo.git(['update-index', '--add', '--cacheinfo', `160000,${sha.a},apps/shop/vendored`]);
    repo.git(['commit', '--quiet', '-m', 'b into a submodule']);
    repo.git(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    const refused = await tether(['sync', ...app(repo.bare, '--prune')], {}, elsewhere.path);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('apps/shop/vendored');
    expect(refused.stderr).toMatch(/submodule/);
    expect(await jsonpath(ns, 'configmap', 'b', '{.data.v}')).toBe('1');
    // Excluded, it is no reason to refuse (and b, gone from Git, is pruned as it should be).
    const excluded = await tether(
      ['sync', ...app(repo.bare, '--prune', '--exclude', 'vendored/**')],
      {},
      elsewhere.path,
    );
    expect(excluded.code, excluded.stderr).toBe(0);
  });

  it('audit --commit takes a revision with --repo, and a sha prefix without', async () => {
    const rev = `${short('c')}^`; // b, which the sync above applied
    const found = await tether(
      ['audit', '--repo', repo.bare, '--commit', rev, '-o', 'json'],
      {},
      elsewhere.path,
    );
    expect(found.code, found.stderr).toBe(0);
    const records = JSON.parse(found.stdout) as { commit: { sha: string } }[];
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((r) => r.commit.sha))).toEqual(new Set([sha.b]));
    const prefix = await tether(['audit', '--commit', short('b'), '-o', 'json']);
    expect(JSON.parse(prefix.stdout)).toEqual(records);
    const bare = await tether(['audit', '--commit', 'HEAD~1']);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/add --repo to read it as a git revision/);
  });

  it('--path outside the repository is refused, not turned into another directory', async () => {
    for (const bad of ['../shop', '/apps/shop', 'apps/../../shop']) {
      const r = await tether(['diff', '--repo', repo.bare, '--path', bad, '-n', ns, '--app', 'rev-cli']);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--path: "${bad}" must be a relative path inside the repository`);
    }
    for (const good of ['./apps/shop', 'apps/shop/']) {
      const r = await tether([
        'diff',
        '--repo',
        repo.bare,
        '--ref',
        short('c'),
        '--path',
        good,
        '-n',
        ns,
        '--app',
        'rev-cli',
      ]);
      expect(r.stderr, good).toBe('');
      expect([0, 1]).toContain(r.code);
    }
  });
});
