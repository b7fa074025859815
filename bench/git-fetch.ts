/**
 * Benchmark of the git source layer against native git, on a generated repository of
 * ~5,000 files and 1,000 commits served over smart HTTP by the test GitServer. Part of
 * `npm run bench` (bench/run.ts calls measureGit); still runs alone:
 *
 *   node bench/git-fetch.ts [files] [commits]
 *
 * Measures: requests and wall time of a no-change poll; wall time and peak RSS of a cold
 * fetch + read of the head (ours vs `git clone --depth 1` and `git fetch --depth 1` +
 * `git archive`); and new commits on a warm cache, read round after round by one long-lived
 * child process as the agent reads them (the first round, which also loads modules and warms
 * the JIT, is reported apart), against `git fetch` + `git archive` over as many rounds. Each
 * measure runs in a child process of its own, so peak RSS (process.resourceUsage().maxRSS,
 * or /usr/bin/time for git) belongs to it alone.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GitServer } from '../test/support/git-server.ts';
import { GitPoller, readSnapshot } from '../src/source/index.ts';
import { median } from './lib.ts';

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
  /** Median over the rounds after the first, in one long-lived process (the agent's case). */
  newCommitMs: number;
  newCommitPollFetchMs: number | undefined;
  /** The first new commit in a fresh process (module loading and JIT warm-up included). */
  newCommitFirstMs: number;
  newCommitRounds: number;
  newCommitRssMB: number | undefined;
  newCommitRequests: number;
  /** Median of native `git fetch` + `git archive` over the same rounds. */
  gitFetchArchiveIncrementalMs: number;
}

const ROUNDS = 6;

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

/** A cold fetch + read of the head, in a fresh child process (its own peak RSS). */
async function coldRead(url: string, cacheDir: string): Promise<Measure> {
  const { out } = await run(process.execPath, [
    // e.g. BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile our side
    ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    import.meta.filename,
    'child',
    'cold',
    url,
    cacheDir,
    String(FILES),
  ]);
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

/**
 * A long-lived child (like the agent): after each "go" line on stdin it polls, fetches and
 * reads the new commit, and prints the timing as one JSON line.
 */
async function rounds(url: string, cacheDir: string): Promise<void> {
  const spec = { repo: url, cacheDir };
  const poller = new GitPoller(spec);
  await poller.poll();
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line !== 'go') break;
    const start = performance.now();
    const r = await poller.poll();
    const polled = performance.now() - start;
    const snap = await readSnapshot(spec, { sha: r.sha });
    if (snap.files.length !== FILES) throw new Error(`read ${snap.files.length} files`);
    const ms = performance.now() - start;
    process.stdout.write(JSON.stringify({ ms, polled, rssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
  }
}

/** Runs `rounds` in a child, committing to `repo` before each round; one Measure per round. */
async function ourRounds(url: string, cacheDir: string, n: number, commit: (i: number) => void) {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      import.meta.filename,
      'child',
      'rounds',
      url,
      cacheDir,
      String(FILES),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const l = await lines.next();
    if (l.done) throw new Error('the git benchmark child ended early');
    return l.value;
  };
  if ((await next()) !== 'ready') throw new Error('the git benchmark child did not start');
  const out: (Measure & { polled: number })[] = [];
  for (let i = 0; i < n; i++) {
    commit(i);
    child.stdin.write('go\n');
    out.push(JSON.parse(await next()) as Measure & { polled: number });
  }
  child.stdin.end();
  await new Promise((r) => child.once('close', r));
  return out;
}

async function child(url: string, cacheDir: string): Promise<void> {
  const start = performance.now();
  const snap = await readSnapshot({ repo: url, cacheDir });
  if (snap.files.length !== FILES) throw new Error(`read ${snap.files.length} files`);
  const ms = performance.now() - start;
  console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024 }));
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
    const cold = await coldRead(url, coldCache);
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

    // New commits on a warm cache, one per round, read by one long-lived process as the agent
    // does; the first round also pays for module loading and JIT warm-up, so it is kept apart.
    const change = (i: number) =>
      repo.commit(
        {
          [`apps/app-${i % 50}/cm-${i}.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}}\n`,
        },
        `new commit ${i}`,
      );
    server.clearLog();
    const ourTimes = await ourRounds(url, coldCache, ROUNDS, change);
    fig.newCommitRequests = server.requests.length / ROUNDS;
    const steady = ourTimes.slice(1);
    fig.newCommitFirstMs = ourTimes[0]!.ms;
    fig.newCommitMs = median(steady.map((m) => m.ms));
    fig.newCommitPollFetchMs = median(steady.map((m) => m.polled));
    fig.newCommitRssMB = Math.max(...ourTimes.map((m) => m.rssMB ?? 0));
    fig.newCommitRounds = steady.length;
    rows.push([
      `tether: new commit, poll + fetch + read (median of ${steady.length})`,
      ...fmt({ ms: fig.newCommitMs, rssMB: fig.newCommitRssMB }),
    ]);
    rows.push(['tether: the same, first commit in a fresh process', ...fmt(ourTimes[0]!)]);
    const natTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      change(ROUNDS + i);
      natTimes.push(
        (
          await timed(
            `cd fa.git && git fetch -q --depth 1 ${url} main && git archive FETCH_HEAD > /dev/null`,
            work,
          )
        ).ms,
      );
    }
    fig.gitFetchArchiveIncrementalMs = median(natTimes.slice(1));
    rows.push([
      `git fetch (incremental) + git archive (median of ${ROUNDS - 1})`,
      `${fig.gitFetchArchiveIncrementalMs.toFixed(0)} ms`,
      '',
    ]);
    const incRequests = fig.newCommitRequests;

    const w = Math.max(...rows.map((r) => r[0].length));
    console.error(`\n${'measure'.padEnd(w)}  ${'wall'.padStart(10)}  peak RSS / requests`);
    for (const [a, b, c] of rows) console.error(`${a.padEnd(w)}  ${b.padStart(10)}  ${c}`);
    console.error(`\nrequests per new-commit tick: ${incRequests} (ls-refs, discover, upload-pack)`);
    return fig as GitFigures;
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  FILES = Number(process.argv[6] ?? FILES);
  if (process.argv[3] === 'rounds') await rounds(process.argv[4]!, process.argv[5]!);
  else await child(process.argv[4]!, process.argv[5]!);
} else if (import.meta.filename === process.argv[1]) {
  const files = process.argv[2] ? Number(process.argv[2]) : undefined;
  const commits = process.argv[3] ? Number(process.argv[3]) : undefined;
  console.log(JSON.stringify(await measureGit(files, commits), null, 2));
}
