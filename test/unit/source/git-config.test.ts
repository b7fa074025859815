import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitConfigValue, worktreeWithBranch } from '../../../src/source/git-calls.ts';

describe('gitConfigValue', () => {
  it('reads plain, quoted and escaped values of the plain section; the last one wins', () => {
    const text = [
      '# comment',
      '[core]',
      '\tbare = false',
      '[user "other"]',
      '\tname = Not Me',
      '[User]',
      '\tName = First',
      '\tname = "Jane  \\"JD\\" Doe" ; trailing comment',
      '\temail = jane@example.com # comment',
    ].join('\n');
    expect(gitConfigValue(text, 'user', 'name')).toBe('Jane  "JD" Doe');
    expect(gitConfigValue(text, 'user', 'email')).toBe('jane@example.com');
    expect(gitConfigValue(text, 'core', 'bare')).toBe('false');
    expect(gitConfigValue(text, 'user', 'signingkey')).toBeUndefined();
    expect(gitConfigValue('[user] name = Inline', 'user', 'name')).toBe('Inline');
  });
});

describe('worktreeWithBranch', () => {
  const setup = (head: string, config: string, dotGit = true): { root: string; gitdir: string } => {
    const root = mkdtempSync(join(tmpdir(), 'tether-wt-'));
    const gitdir = dotGit ? join(root, '.git') : root;
    mkdirSync(join(gitdir, 'objects'), { recursive: true });
    writeFileSync(join(gitdir, 'HEAD'), head);
    writeFileSync(join(gitdir, 'config'), config);
    return { root, gitdir };
  };

  it('names the worktree of a non-bare repository with the branch checked out', async () => {
    const { root, gitdir } = setup('ref: refs/heads/main\n', '[core]\n\tbare = false\n');
    try {
      expect(await worktreeWithBranch(gitdir, 'refs/heads/main')).toBe(root);
      expect(await worktreeWithBranch(gitdir, 'refs/heads/other')).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a bare repository has no worktree, except linked ones', async () => {
    const { root, gitdir } = setup('ref: refs/heads/main\n', '[core]\n\tbare = true\n', false);
    try {
      expect(await worktreeWithBranch(gitdir, 'refs/heads/main')).toBeUndefined();
      const linked = join(gitdir, 'worktrees', 'wt');
      mkdirSync(linked, { recursive: true });
      writeFileSync(join(linked, 'HEAD'), 'ref: refs/heads/release\n');
      writeFileSync(join(linked, 'gitdir'), '/somewhere/wt/.git\n');
      expect(await worktreeWithBranch(gitdir, 'refs/heads/release')).toBe('/somewhere/wt');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
