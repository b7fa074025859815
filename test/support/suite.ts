/**
 * A describe block's shared git server and clean-ups: started before its tests, clean-ups run
 * last-in first-out after them, then the server closes.
 */
import { afterAll, beforeAll } from 'vitest';
import { GitServer } from './git-server.ts';

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
