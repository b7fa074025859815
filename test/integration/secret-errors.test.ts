/**
 * Secrets never leak, errors included: the secret errors corpus (test/fixtures/secret-errors)
 * in a real git repository, run through `tether sync`, `drift` and `diff` as a user runs them
 * (from another directory, with --audit-log) against the real API server. The canary Secret
 * value and its base64 appear nowhere: not in stdout, stderr, nor in the audit log. Also: a
 * repository URL's query string is redacted like its password, and file names holding
 * terminal escapes and newlines are printed escaped.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor } from '../support/agent.ts';
import { createNamespace, tether, type CliResult } from '../support/cluster.ts';
import { GitServer, type Repo } from '../support/git-server.ts';

const CORPUS = join(import.meta.dirname, '../fixtures/secret-errors');
const cases = Object.entries(
  JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as Record<string, 'load' | 'server'>,
);

/** The corpus as repository files: path -> content. */
function corpusFiles(dir = CORPUS): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) Object.assign(out, corpusFiles(full));
    else out[relative(CORPUS, full)] = readFileSync(full);
  }
  return out;
}

function canaryOf(name: string): string {
  for (const [path, content] of Object.entries(corpusFiles())) {
    if (!path.startsWith(`${name}/`)) continue;
    const m = /S3CR3T-CANARY-\d+/.exec(Buffer.from(content).toString('utf8'));
    if (m) return m[0];
  }
  throw new Error(`no canary in ${name}`);
}

function expectNoLeak(text: string, canary: string, what: string): void {
  expect(text, what).not.toContain(canary);
  expect(text, what).not.toContain(Buffer.from(canary).toString('base64'));
  // Any canary at all: a masker that hid one case's value by luck would not pass.
  expect(text, what).not.toMatch(/S3CR3T-CANARY/);
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address() as { port: number };
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

describe('secrets never leak through errors', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let work: string;
  let logDir: string;
  let log: string;

  beforeAll(async () => {
    git = await GitServer.start();
    repo = git.createRepo('secret-errors');
    repo.commit(corpusFiles(), 'the secret errors corpus');
    ns = await createNamespace('secret-errors');
    work = mkdtempSync(join(tmpdir(), 'tether-secret-cwd-'));
    logDir = mkdtempSync(join(tmpdir(), 'tether-secret-log-'));
    log = join(logDir, 'audit.jsonl');
  });

  afterAll(async () => {
    await ns.cleanup();
    repo.dispose();
    await git.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(logDir, { recursive: true, force: true });
  });

  const run = (command: string, path: string, ...extra: string[]): Promise<CliResult> =>
    tether([command, '--repo', git.url('secret-errors'), '--path', path, '-n', ns.name, ...extra], {}, work);

  for (const [name, fails] of cases) {
    it(`${name} (${fails}): sync, drift and diff fail without printing the Secret value`, async () => {
      const canary = canaryOf(name);
      const sync = await run('sync', name, '--audit-log', log);
      expect(sync.code, sync.stderr).not.toBe(0);
      expectNoLeak(sync.stdout + sync.stderr, canary, `sync ${name}`);
      // The error still says what is wrong and where.
      expect(sync.stderr).toMatch(fails === 'load' ? /error: .*in the manifests of commit/ : /error: /);
      expect(sync.stderr).toContain(fails === 'load' ? `${name}/` : '');

      for (const output of ['text', 'json']) {
        const drift = await run('drift', name, '--audit-log', log, '-o', output);
        expect(drift.code, drift.stderr + drift.stdout).toBe(2);
        expectNoLeak(drift.stdout + drift.stderr, canary, `drift -o ${output} ${name}`);
      }

      const diff = await run('diff', name);
      expect(diff.code, diff.stderr + diff.stdout).toBe(2);
      expectNoLeak(diff.stdout + diff.stderr, canary, `diff ${name}`);

      // The debug stack trace is masked too.
      const debug = await run('sync', name, '--audit-log', log, '--debug');
      expectNoLeak(debug.stdout + debug.stderr, canary, `sync --debug ${name}`);
    });
  }

  it('the audit log holds the failed reconciles, and no Secret value', () => {
    expect(existsSync(log)).toBe(true);
    const text = readFileSync(log, 'utf8');
    expect(text.trim().split('\n').length).toBeGreaterThan(0);
    expect(text).not.toMatch(/S3CR3T-CANARY/);
    for (const [name] of cases) expectNoLeak(text, canaryOf(name), `audit log, ${name}`);
  });

  it('the agent keeps no Secret value in its log, its /status or its audit log', async () => {
    const apps = cases
      .map(
        ([name]) => `  - name: ${name}
    source: {repo: "${git.url('secret-errors')}", ref: main, path: ${name}, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: apply, prune: false}
`,
      )
      .join('');
    const agent = await startAgent({ apps });
    try {
      // Every app fails, at load or at the dry-run, and says why.
      const { value: status } = await waitFor(
        async () => {
          const s = await agent.status();
          return s.apps.length === cases.length && s.apps.every((a) => a.lastError) ? s : undefined;
        },
        60_000,
        'every app to report its error',
        250,
      );
      // A second round of reconciles (retries) must not leak either.
      await waitFor(
        async () => (await agent.status()).apps.every((a) => a.reconciles >= 2),
        30_000,
        'retries',
        250,
      );
      const statusText = JSON.stringify(await agent.status());
      const audit = readFileSync(agent.auditLog, 'utf8');
      const auditOverHttp = await (await fetch(`${agent.url}/audit`)).text();
      for (const [name] of cases) {
        const canary = canaryOf(name);
        expectNoLeak(JSON.stringify(status), canary, `/status, ${name}`);
        expectNoLeak(statusText, canary, `/status, ${name}`);
        expectNoLeak(agent.logs(), canary, `agent log, ${name}`);
        expectNoLeak(audit, canary, `agent audit log, ${name}`);
        expectNoLeak(auditOverHttp, canary, `/audit, ${name}`);
      }
      expect(audit).toContain('commit-refused');
    } finally {
      await agent.stop('SIGKILL');
    }
  });

  it("never prints a repository URL's query string: ?token=... is redacted like a password", async () => {
    const token = 'abc123';
    // Nothing listening, and a server that answers every request with 404.
    const port = await closedPort();
    const notFound = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no such repository: ${req.url ?? ''}\n`);
    });
    await new Promise<void>((res) => notFound.listen(0, '127.0.0.1', res));
    const { port: httpPort } = notFound.address() as { port: number };
    try {
      for (const url of [
        `http://127.0.0.1:${port}/repo.git?token=${token}`,
        `http://127.0.0.1:${httpPort}/org/repo.git?private_token=${token}&ref=main`,
      ]) {
        for (const command of ['sync', 'drift']) {
          const r = await tether(
            [command, '--repo', url, '-n', ns.name, '--audit-log', log, '--debug'],
            {},
            work,
          );
          expect(r.code, r.stderr).not.toBe(0);
          expect(r.stdout + r.stderr, `${command} ${url}`).not.toContain(token);
          expect(r.stderr).toContain('error: ');
        }
      }
    } finally {
      await new Promise<void>((res) => notFound.close(() => res()));
    }
    if (existsSync(log)) expect(readFileSync(log, 'utf8')).not.toContain(token);
  });

  it('prints file names escaped: terminal escapes and newlines cannot clear the screen or forge lines', async () => {
    const name = 'evil\u001b[2J\u001b[H\nerror: forged line.yaml';
    repo.commit({ [`escapes/${name}`]: 'apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n' }, 'escapes');
    for (const command of ['sync', 'drift']) {
      const r = await run(command, 'escapes', '--audit-log', log);
      expect(r.code, r.stderr).not.toBe(0);
      const out = r.stdout + r.stderr;
      expect(out).toContain('escapes/evil\\u001b[2J\\u001b[H\\nerror: forged line.yaml:');
      expect(out).not.toContain('\u001b');
      expect(out).not.toMatch(/^error: forged/m);
    }
  });
});
