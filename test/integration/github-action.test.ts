/**
 * The GitHub Action (action.yml) run locally as a runner would: its steps read from action.yml,
 * `${{ }}` expressions resolved, each `run` script executed by bash with GitHub's environment
 * (GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_EVENT_PATH,
 * GITHUB_API_URL), against the test cluster, a git server, and a loopback server standing in
 * for api.github.com.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createNamespace, kubeconfig, kubectl, repoRoot, tether } from '../support/cluster.ts';
import type { GitServer } from '../support/git-server.ts';
import { deployment, toYaml } from '../support/objects.ts';
import { gitServerSuite } from '../support/suite.ts';

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface ActionYaml {
  inputs: Record<string, { default?: string }>;
  runs: { steps: Step[] };
}

const TOKEN = 'ghs_IntegrationJobToken42';

interface ActionRun {
  code: number;
  log: string;
  outputs: Record<string, Record<string, string>>;
  ran: string[];
}

/** Runs action.yml's steps as a runner would; `uses` steps (setup-node) are this Node 24 on PATH. */
async function runAction(inputs: Record<string, string>, env: Record<string, string>): Promise<ActionRun> {
  const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as ActionYaml;
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(action.inputs)) values[k] = v.default ?? '';
  const outputs: Record<string, Record<string, string>> = {};
  const evaluate = (expr: string): string => {
    const e = expr.trim();
    let m;
    if ((m = /^inputs\.([\w-]+)$/.exec(e))) return inputs[m[1]!] ?? expand(values[m[1]!] ?? '');
    if (e === 'github.action_path') return repoRoot;
    if (e === 'github.token') return TOKEN;
    if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) return outputs[m[1]!]?.[m[2]!] ?? '';
    throw new Error(`expression this harness does not know: ${e}`);
  };
  const expand = (s: string) => s.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e: string) => evaluate(e));
  const condition = (c: string): boolean =>
    c.split('&&').every((part) => {
      const m = /^\s*([\w.-]+)\s*(==|!=)\s*'([^']*)'\s*$/.exec(part);
      if (!m) throw new Error(`condition this harness does not know: ${c}`);
      return (evaluate(m[1]!) === m[3]) === (m[2] === '==');
    });
  let log = '';
  const ran: string[] = [];
  for (const [i, step] of action.runs.steps.entries()) {
    if (step.if && !condition(step.if)) continue;
    if (step.uses) continue;
    ran.push(step.id ?? String(i));
    const dir = mkdtempSync(join(tmpdir(), 'tether-step-'));
    const outFile = join(dir, 'output');
    writeFileSync(outFile, '');
    const script = join(dir, 'step.sh');
    writeFileSync(script, step.run!);
    const stepEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = expand(v);
    const code = await new Promise<number>((res, rej) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
        cwd: env.GITHUB_WORKSPACE,
        env: {
          ...process.env,
          PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
          NO_COLOR: '1',
          ...env,
          GITHUB_OUTPUT: outFile,
          ...stepEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));
      child.on('error', rej);
      child.on('close', (c) => res(c ?? -1));
    });
    outputs[step.id ?? String(i)] = Object.fromEntries(
      readFileSync(outFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    if (code !== 0) return { code, log, outputs, ran };
  }
  return { code: 0, log, outputs, ran };
}

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The issue-comments API of one pull request, on 127.0.0.1. */
async function fakeGithubApi(): Promise<{ url: string; requests: Recorded[]; server: Server }> {
  const requests: Recorded[] = [];
  const comments: { id: number; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, v: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      const path = req.url!.split('?')[0];
      if (path === '/repos/octo/deploy/issues/7/comments' && req.method === 'GET') return send(200, comments);
      if (path === '/repos/octo/deploy/issues/7/comments' && req.method === 'POST') {
        const c = { id: 555, body: (JSON.parse(body) as { body: string }).body };
        comments.push(c);
        return send(201, c);
      }
      const m = /^\/repos\/octo\/deploy\/issues\/comments\/(\d+)$/.exec(path ?? '');
      const c = m && comments.find((x) => x.id === Number(m[1]));
      if (c && req.method === 'PATCH') {
        c.body = (JSON.parse(body) as { body: string }).body;
        return send(200, c);
      }
      send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

describe('GitHub Action', () => {
  const suite = gitServerSuite();
  const { cleanups } = suite;
  let git: GitServer;
  beforeAll(() => {
    git = suite.git();
  });

  /** A runner's directories and GitHub's variables for one job. */
  function runner(event: unknown, api = 'http://127.0.0.1:9') {
    const dir = mkdtempSync(join(tmpdir(), 'tether-runner-'));
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
    return {
      dir,
      summary,
      env: {
        GITHUB_ACTIONS: 'true',
        CI: 'true',
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: dir,
        GITHUB_WORKSPACE: dir,
        GITHUB_ACTION_PATH: repoRoot,
        GITHUB_EVENT_PATH: join(dir, 'event.json'),
        GITHUB_REPOSITORY: 'octo/deploy',
        GITHUB_API_URL: api,
        KUBECONFIG: kubeconfig(),
      },
    };
  }

  it('drift: JUnit file, job summary, a ::warning at file and line, and a failed job on drift', async () => {
    const ns = await createNamespace('gha');
    cleanups.push(ns.cleanup);
    const repo = git.createRepo('gha-drift');
    repo.commit({
      'deploy/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: "1"}\n',
      'deploy/web.yaml': `# the web tier\n${toYaml(deployment({ name: 'web', image: 'nginx:1.27', replicas: 1 }))}`,
    });
    const inputs = { repo: git.url('gha-drift'), path: 'deploy', app: 'gha', namespace: ns.name };
    expect(
      (await tether(['sync', '--repo', inputs.repo, '--path', 'deploy', '-n', ns.name, '--app', 'gha'])).code,
    ).toBe(0);
    const job = runner({ ref: 'refs/heads/main' });

    const clean = await runAction({ command: 'drift', ...inputs }, job.env);
    expect(clean.code, clean.log).toBe(0);
    expect(clean.ran).toEqual(['install', 'run']);
    expect(clean.outputs.run).toMatchObject({ 'exit-code': '0', drift: 'false', junit: 'tether-drift.xml' });

    await kubectl(['-n', ns.name, 'scale', 'deployment', 'web', '--replicas=3']);
    writeFileSync(job.summary, '');
    const drifted = await runAction({ command: 'drift', ...inputs, junit: 'reports/drift.xml' }, job.env);
    expect(drifted.code, drifted.log).toBe(1); // the job fails
    expect(drifted.outputs.run).toMatchObject({
      'exit-code': '1',
      drift: 'true',
      junit: 'reports/drift.xml',
    });
    const xml = readFileSync(join(job.dir, 'reports/drift.xml'), 'utf8');
    expect(xml).toMatch(/<testsuites name="tether drift" tests="2" failures="1" errors="0">/);
    expect(xml).toMatch(
      new RegExp(
        `<testcase classname="apps/v1 Deployment" name="${ns.name}/web" file="deploy/web.yaml" line="2">\\s*<failure type="drifted"`,
      ),
    );
    expect(drifted.log).toMatch(
      /^::warning file=deploy\/web\.yaml,line=2,title=drifted%3A apps\/v1 Deployment \S+\/web::.*\.spec\.replicas \(kubectl\)/m,
    );
    const md = readFileSync(job.summary, 'utf8');
    expect(md).toContain('### Drift at');
    expect(md).toMatch(
      /\| drifted \| apps\/v1 Deployment \S+\/web \| `\.spec\.replicas` \| 1 \| 3 \| kubectl/,
    );
  });

  it('diff: posts one pull-request comment with the diff, and updates it on the next push', async () => {
    const ns = await createNamespace('gha');
    cleanups.push(ns.cleanup);
    const repo = git.createRepo('gha-diff');
    repo.commit({ 'deploy/web.yaml': toYaml(deployment({ name: 'web', image: 'nginx:1.27', replicas: 1 })) });
    const url = git.url('gha-diff');
    expect(
      (await tether(['sync', '--repo', url, '--path', 'deploy', '-n', ns.name, '--app', 'shop'])).code,
    ).toBe(0);
    const api = await fakeGithubApi();
    cleanups.push(() => new Promise((r) => api.server.close(r)));
    const job = runner({ action: 'opened', pull_request: { number: 7 } }, api.url);
    const inputs = { command: 'diff', repo: url, path: 'deploy', app: 'shop', namespace: ns.name };

    repo.commit({ 'deploy/web.yaml': toYaml(deployment({ name: 'web', image: 'nginx:1.28', replicas: 1 })) });
    const first = await runAction(inputs, job.env);
    expect(first.code, first.log).toBe(0); // changes are no failure
    expect(first.outputs.run).toMatchObject({ 'exit-code': '1', changes: 'true' });
    expect(existsSync(first.outputs.run!.markdown!)).toBe(true);
    expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /repos/octo/deploy/issues/7/comments?per_page=100',
      'POST /repos/octo/deploy/issues/7/comments',
    ]);
    const posted = (JSON.parse(api.requests[1]!.body) as { body: string }).body;
    expect(posted.startsWith('<!-- tether-diff:shop -->\n')).toBe(true);
    expect(posted).toContain('nginx:1.28');
    expect(posted).toBe(`<!-- tether-diff:shop -->\n${readFileSync(first.outputs.run!.markdown!, 'utf8')}`);
    expect(readFileSync(job.summary, 'utf8')).toContain('nginx:1.28');

    api.requests.length = 0;
    repo.commit({ 'deploy/web.yaml': toYaml(deployment({ name: 'web', image: 'nginx:1.29', replicas: 1 })) });
    const second = await runAction(inputs, job.env);
    expect(second.code, second.log).toBe(0);
    expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /repos/octo/deploy/issues/7/comments?per_page=100',
      'PATCH /repos/octo/deploy/issues/comments/555',
    ]);
    const updated = (JSON.parse(api.requests[1]!.body) as { body: string }).body;
    expect(updated).toContain('nginx:1.29');
    expect(updated).not.toContain('nginx:1.28');
    for (const r of api.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.headers.accept).toBe('application/vnd.github+json');
      expect(r.headers['x-github-api-version']).toBe('2022-11-28');
    }
    expect(second.log).toContain('updated comment 555 on pull request #7');
    for (const r of [first, second]) expect(r.log).not.toContain(TOKEN);
  });

  it('diff: an error of tether fails the job and posts nothing', async () => {
    const api = await fakeGithubApi();
    cleanups.push(() => new Promise((r) => api.server.close(r)));
    const job = runner({ pull_request: { number: 7 } }, api.url);
    const r = await runAction({ command: 'diff', repo: join(job.dir, 'no-such-repo'), app: 'x' }, job.env);
    expect(r.code).toBe(2);
    expect(r.outputs.run).toMatchObject({ 'exit-code': '2', changes: 'false' });
    expect(r.log).toMatch(/^error: /m);
    expect(api.requests).toHaveLength(0);
  });
});
