import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Repo } from '../../support/git-server.ts';

export function tempDir(prefix = 'tether-src-'): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Commits symlinks (path -> target) plus files into `repo` and pushes. */
export function commitSymlinks(repo: Repo, links: Record<string, string>, message = 'links'): string {
  const work = repo.git(['rev-parse', '--show-toplevel']);
  for (const [path, target] of Object.entries(links)) {
    const full = join(work, path);
    mkdirSync(dirname(full), { recursive: true });
    rmSync(full, { force: true });
    symlinkSync(target, full);
  }
  return repo.commit({}, message);
}

export const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
