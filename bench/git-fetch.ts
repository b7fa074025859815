/**
 * Benchmark of the git source layer against native git, on a generated repository of
 * ~5,000 files and 1,000 commits served over smart HTTP by the test GitServer. Part of
 * `npm run bench` (bench/run.ts calls measureGit); still runs alone:
 *
 *   node bench/git-fetch.ts [files] [commits]
 *
 * Measures: requests and wall time of a no-change poll; wall time and peak RSS of a cold
 * fetch + read of the head (ours vs `git clone --depth 1` and `git fetch --depth 1` +
 * `git archive`); and the same for one new commit on a warm cache. Each measured run is a
 * fresh child process, so peak RSS (process.resourceUsage().maxRSS, or /usr/bin/time for
 * git) belongs to that run alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitServer } from '../test/support/git-server.ts';
import { GitPoller, readSnapshot } from '../src/source/index.ts';

let FILES = 5_000;
let COMMITS = 1_000;

export interface GitFigures {
  files: number;
  commits: number;
  generateMs: number;
  coldMs: number;
  coldRssMB: number | undefined;
  gitCloneDepth1Ms: number;
  gitFetchArchiveColdMs: number;
  noChangePollMs: number;
  noChangePollRequests: number;
  noChangePolls: number;
  newCommitMs: number;
  newCommitPollFetchMs: number | undefined;
  newCommitRssMB: number | undefined;
  newCommitRequests: number;
  gitFetchArchiveIncrementalMs: number;
}

interface Measure {
  ms: number;
  rssMB: number | undefined;
  polled?: number | undefined;
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string } = {},
): Promise<{ out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve({ out, err }) : reject(new Error(`${cmd} ${args.join(' ')}: ${code} ${err}`)),
    );
    child.stdin.on('error', () => undefined); // the exit code tells
    child.stdin.end(opts.input ?? '');
  });
}

/** Wall time and peak RSS of a shell pipeline, via /usr/bin/time. */
async function timed(script: string, cwd: string): Promise<Measure> {
  const start = performance.now();
  const { err } = await run('/usr/bin/time', ['-f', 'MAXRSS=%M', 'sh', '-c', script], { cwd });
  const ms = performance.now() - start;
  const kb = /MAXRSS=(\d+)/.exec(err)?.[1];
  return { ms, rssMB: kb ? Number(kb) / 1024 : undefined };
}

function fastImportStream(): string {
  const out: string[] = [];
  let mark = 0;
  const blob = (content: string): number => {
    mark++;
    out.push(`blob\nmark :${mark}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
    return mark;
  };
  const manifest = (i: number, rev: number) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: app-${i % 50}\ndata:\n  revision: "${rev}"\n  payload: "${'x'.repeat(200 + (i % 300))}"\n`;
  let t = 1_700_000_000;
  for (let c = 0; c < COMMITS; c++) {
    const changes: { path: string; mark: number }[] = [];
    if (c === 0)
      for (let i = 0; i < FILES; i++)
        changes.push({ path: `apps/app-${i % 50}/cm-${i}.yaml`, mark: blob(manifest(i, 0)) });
    else
      for (let k = 0; k < 5; k++) {
        const i = (c * 7 + k * 1009) % FILES;
        changes.push({ path: `apps/app-${i % 50}/cm-${i}.yaml`, mark: blob(manifest(i, c)) });
      }
    const msg = `commit ${c}`;
    out.push(
      `commit refs/heads/main\ncommitter Bench <bench@example.com> ${t++} +0000\ndata ${msg.length}\n${msg}\n`,
    );
    for (const ch of changes) out.push(`M 100644 :${ch.mark} ${ch.path}\n`);
    out.push('\n');
  }
  return out.join('');
}

async function ours(mode: 'cold' | 'poll-incremental', url: string, cacheDir: string): Promise<Measure> {
  const { out } = await run(process.execPath, [
    // e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile our side
    ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    import.meta.filename,
    'child',
    mode,
    url,
    cacheDir,
    String(FILES),
  ]);
  const m = JSON.parse(out.trim().split('\n').pop()!) as Measure & { polled?: number };
  if (m.polled !== undefined)
    console.error(
      `  (${mode}: poll + fetch ${m.polled.toFixed(0)} ms, read ${(m.ms - m.polled).toFixed(0)} ms)`,
    );
  return m;
}

async function child(mode: string, url: string, cacheDir: string): Promise<void> {
  const spec = { repo: url, cacheDir };
  let polled: number | undefined;
  const start = performance.now();
  if (mode === 'cold') {
    const snap = await readSnapshot(spec);
    if (snap.files.length !== FILES) throw new Error(`read ${snap.files.length} files`);
  } else {
    // Warm cache, one new commit: what the agent does on a tick that found a change.
    const poller = new GitPoller(spec);
    const r = await poller.poll();
    polled = performance.now() - start;
    const snap = await readSnapshot(spec, { sha: r.sha });
    if (snap.files.length !== FILES) throw new Error(`read ${snap.files.length} files`);
  }
  const ms = performance.now() - start;
  console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024, polled }));
}

export async function measureGit(files = 5_000, commits = 1_000): Promise<GitFigures> {
  FILES = files;
  COMMITS = commits;
  const fig: Partial<GitFigures> = { files, commits };
  const server = await GitServer.start();
  const work = mkdtempSync(join(tmpdir(), 'tether-bench-'));
  try {
    const repo = server.createRepo('bench');
    const t0 = performance.now();
    await run('git', ['fast-import', '--quiet'], { cwd: repo.bare, input: fastImportStream() });
    await run('git', ['gc', '--quiet'], { cwd: repo.bare });
    fig.generateMs = performance.now() - t0;
    console.error(
      `generated ${FILES} files x ${COMMITS} commits in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const url = server.url('bench');
    const rows: [string, string, string][] = [];
    const fmt = (m: Measure): [string, string] => [
      `${m.ms.toFixed(0)} ms`,
      m.rssMB === undefined ? 'n/a' : `${m.rssMB.toFixed(0)} MB`,
    ];

    // Cold fetch + read of the head.
    const coldCache = join(work, 'cache-cold');
    const cold = await ours('cold', url, coldCache);
    fig.coldMs = cold.ms;
    fig.coldRssMB = cold.rssMB;
    rows.push([`tether: cold fetch + read ${FILES} files`, ...fmt(cold)]);
    const clone = await timed(`git clone -q --depth 1 ${url} clone`, work);
    fig.gitCloneDepth1Ms = clone.ms;
    rows.push(['git clone --depth 1 (with checkout)', ...fmt(clone)]);
    const fa = await timed(
      `git init -q --bare fa.git && cd fa.git && git fetch -q --depth 1 ${url} main && git archive FETCH_HEAD > /dev/null`,
      work,
    );
    fig.gitFetchArchiveColdMs = fa.ms;
    rows.push(['git fetch --depth 1 + git archive', ...fmt(fa)]);

    // No-change polls.
    const poller = new GitPoller({ repo: url, cacheDir: coldCache });
    await poller.poll();
    server.clearLog();
    const N = 20;
    const start = performance.now();
    for (let i = 0; i < N; i++) if ((await poller.poll()).changed) throw new Error('unexpected change');
    const pollMs = (performance.now() - start) / N;
    fig.noChangePollMs = pollMs;
    fig.noChangePolls = N;
    fig.noChangePollRequests = server.requests.length / N;
    rows.push([
      `tether: no-change poll (mean of ${N})`,
      `${pollMs.toFixed(1)} ms`,
      `${server.requests.length / N} request(s)/poll`,
    ]);

    // One new commit on a warm cache.
    repo.commit(
      { 'apps/app-0/cm-0.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\n' },
      'new commit',
    );
    server.clearLog();
    const inc = await ours('poll-incremental', url, coldCache);
    fig.newCommitMs = inc.ms;
    fig.newCommitPollFetchMs = inc.polled;
    fig.newCommitRssMB = inc.rssMB;
    rows.push(['tether: new commit, poll + fetch + read', ...fmt(inc)]);
    const incRequests = server.requests.length;
    fig.newCommitRequests = incRequests;
    const nat = await timed(
      `cd fa.git && git fetch -q --depth 1 ${url} main && git archive FETCH_HEAD > /dev/null`,
      work,
    );
    fig.gitFetchArchiveIncrementalMs = nat.ms;
    rows.push(['git fetch (incremental) + git archive', ...fmt(nat)]);

    const w = Math.max(...rows.map((r) => r[0].length));
    console.error(`\n${'measure'.padEnd(w)}  ${'wall'.padStart(10)}  peak RSS / requests`);
    for (const [a, b, c] of rows) console.error(`${a.padEnd(w)}  ${b.padStart(10)}  ${c}`);
    console.error(`\nrequests for the new-commit tick: ${incRequests} (ls-refs, discover, upload-pack)`);
    return fig as GitFigures;
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  FILES = Number(process.argv[6] ?? FILES);
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else if (import.meta.filename === process.argv[1]) {
  const files = process.argv[2] ? Number(process.argv[2]) : undefined;
  const commits = process.argv[3] ? Number(process.argv[3]) : undefined;
  console.log(JSON.stringify(await measureGit(files, commits), null, 2));
}
