/**
 * A describe block's shared git server and clean-ups: started before its tests, clean-ups run
 * last-in first-out after them, then the server closes.
 */
import { afterAll, beforeAll } from 'vitest';
import { join } from 'node:path';
import { createNamespace, tether } from './cluster.ts';
import { GitServer } from './git-server.ts';
import type { ProcessResult } from './process.ts';

export interface GitSuite {
  /** The started server (valid inside tests and later hooks). */
  git: () => GitServer;
  cleanups: (() => Promise<unknown>)[];
}

export function gitServerSuite(): GitSuite {
  let git: GitServer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    git = await GitServer.start();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await git?.close();
  });
  return { git: () => git!, cleanups };
}

/**
 * An app of the suite's git server in a fresh namespace, and `tether sync` on it as a user runs
 * it: from `workDir`, every option given, an audit log of its own. The repository must
 * already hold the app's commit.
 */
export async function syncedApp(
  suite: GitSuite,
  opts: { repo: string; path: string; workDir: string; prefix: string; env?: Record<string, string> },
): Promise<{ ns: string; audit: string; run: (...extra: string[]) => Promise<ProcessResult> }> {
  const ns = await createNamespace(opts.prefix);
  suite.cleanups.push(ns.cleanup);
  const audit = join(opts.workDir, `${opts.repo}.jsonl`);
  const run = (...extra: string[]) =>
    tether(
      [
        'sync',
        '--repo',
        suite.git().url(opts.repo),
        '--path',
        opts.path,
        '-n',
        ns.name,
        '--audit-log',
        audit,
        ...extra,
      ],
      opts.env ?? {},
      opts.workDir,
    );
  return { ns: ns.name, audit, run };
}
