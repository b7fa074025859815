import { execFile } from 'node:child_process';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer } from '../../support/git-server.ts';
import { GitPoller, readSnapshot } from '../../../src/source/index.ts';
import { MAX_PACKS, packStats, repoCacheDir } from '../../../src/source/cache.ts';
import { tempDir } from './helpers.ts';

const run = promisify(execFile);
let server: GitServer;

beforeAll(async () => {
  server = await GitServer.start();
});
afterAll(async () => {
  await server.close();
});

describe('bare cache housekeeping', () => {
  it('keeps the number of packs bounded by rebuilding into a fresh generation', async () => {
    const cache = tempDir('tether-cache-');
    const repo = server.createRepo('many');
    repo.commit({ 'a.yaml': '0\n' }, 'c0');
    const spec = { repo: server.url('many'), cacheDir: cache.path };
    const poller = new GitPoller(spec);
    const dir = repoCacheDir(cache.path, spec.repo);
    const generations = new Set<string>();
    for (let i = 1; i <= MAX_PACKS + 5; i++) {
      const sha = repo.commit({ 'a.yaml': `${i}\n` }, `c${i}`);
      const r = await poller.poll();
      expect(r).toMatchObject({ sha, changed: true });
      expect(r.rewrite).toBeUndefined(); // a rebuild must not look like a rewrite
      const gen = await readlink(join(dir, 'current'));
      generations.add(gen);
      expect((await packStats(join(dir, gen))).packs).toBeLessThanOrEqual(MAX_PACKS + 1);
    }
    expect(generations.size).toBeGreaterThan(1);
    const snap = await readSnapshot(spec);
    expect(Buffer.from(snap.files[0]!.content).toString()).toBe(`${MAX_PACKS + 5}\n`);
    // Only current and recently retired generations are on disk, and no lock is left.
    const names = await readdir(dir);
    expect(names.filter((n) => n.startsWith('gen-')).length).toBeLessThanOrEqual(generations.size);
    expect(names).not.toContain('lock');
    repo.dispose();
    cache.dispose();
  });
});

describe('concurrent use of one cache', () => {
  it('lets several processes fetch into the same cache without corrupting it', async () => {
    const cache = tempDir('tether-cache-');
    const repo = server.createRepo('shared');
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`f${i}.yaml`] = `n: ${i}\n`;
    const sha = repo.commit(files, 'c');
    const script = `
      import { readSnapshot } from ${JSON.stringify(join(process.cwd(), 'src/source/index.ts'))};
      const s = await readSnapshot({ repo: process.argv[1], cacheDir: process.argv[2] });
      console.log(s.commit.sha + ' ' + s.files.length);
    `;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        run(process.execPath, ['--input-type=module', '-e', script, server.url('shared'), cache.path]),
      ),
    );
    for (const r of runs) expect(r.stdout.trim()).toBe(`${sha} 50`);
    const dir = repoCacheDir(cache.path, server.url('shared'));
    const gens = (await readdir(dir)).filter((n) => n.startsWith('gen-'));
    expect(gens).toHaveLength(1); // one process fetched, the others found it under the lock
    expect((await packStats(join(dir, gens[0]!))).packs).toBe(1);
    // And an in-process reader agrees.
    expect((await readSnapshot({ repo: server.url('shared'), cacheDir: cache.path })).files).toHaveLength(50);
    repo.dispose();
    cache.dispose();
  });
});
