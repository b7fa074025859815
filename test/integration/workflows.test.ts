/**
 * The jobs users hire Tether for, end to end: drift reports in CI (JUnit, GitHub Actions
 * annotations and job summary) and rollback by git revert through the agent.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/audit/index.ts';
import { startAgent, waitFor } from '../support/agent.ts';
import { createNamespace, jsonpath, kubectl, tether } from '../support/cluster.ts';
import { GitServer } from '../support/git-server.ts';
import { configMap, deployment, toYaml } from '../support/objects.ts';

const exec = promisify(execFile);

const deploymentYaml = (name: string, image: string, replicas = 1) =>
  toYaml(deployment({ name, image, replicas }));

describe('CI and rollback workflows', () => {
  let git: GitServer;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    git = await GitServer.start({ auth: { username: 'ci', password: 'ci-Pa55' } });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await git.close();
  });

  it('reports kubectl set image and kubectl scale as JUnit failures with GitHub annotations at the manifest lines', async () => {
    const ns = await createNamespace('ci');
    cleanups.push(ns.cleanup);
    const repo = git.createRepo('ci');
    // Two objects in one file: the annotation must point at the second document's line, the
    // one after the first document and its `---`.
    const api = deploymentYaml('api', 'nginx:1.27');
    const workerLine = api.split('\n').length + 1;
    repo.commit({
      'app/workloads.yaml': `${api}---\n${deploymentYaml('worker', 'busybox:1.36', 2)}`,
      'app/config.yaml': toYaml(configMap({ name: 'settings', data: { a: '1' } })),
    });
    const url = git.url('ci', { username: 'ci', password: 'ci-Pa55' });
    const args = ['--repo', url, '--path', 'app', '-n', ns.name, '--app', 'ci'];
    expect((await tether(['sync', ...args])).code).toBe(0);
    await kubectl(['-n', ns.name, 'set', 'image', 'deployment/api', 'main=nginx:hotfix']);
    await kubectl(['-n', ns.name, 'scale', 'deployment', 'worker', '--replicas=5']);

    const dir = mkdtempSync(join(tmpdir(), 'tether-gha-'));
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const r = await tether(['drift', ...args, '-o', 'junit'], {
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(r.code).toBe(1);
    const xmlFile = join(dir, 'drift.xml');
    writeFileSync(xmlFile, r.stdout);
    await exec('xmllint', ['--noout', xmlFile]); // well-formed XML, or this throws
    expect(r.stdout).toMatch(/<testsuites name="tether drift" tests="3" failures="2" errors="0">/);
    const failures = [
      ...r.stdout.matchAll(
        /<testcase classname="([^"]+)" name="([^"]+)" file="([^"]+)" line="(\d+)">\s*<failure type="drifted" message="([^"]+)">([^<]*)</g,
      ),
    ];
    expect(failures.map((f) => `${f[1]} ${f[2]} ${f[3]}:${f[4]}`)).toEqual([
      `apps/v1 Deployment ${ns.name}/api app/workloads.yaml:1`,
      `apps/v1 Deployment ${ns.name}/worker app/workloads.yaml:${workerLine}`,
    ]);
    expect(failures[0]![6]).toContain(
      '.spec.template.spec.containers[name=main].image: git &quot;nginx:1.27&quot;, live &quot;nginx:hotfix&quot;; kubectl-set',
    );
    expect(failures[1]![6]).toContain('.spec.replicas: git 2, live 5; kubectl (Update, subresource scale');
    expect(r.stdout).toMatch(
      /<testcase classname="v1 ConfigMap" name="[^"]+\/settings" file="app\/config.yaml" line="1"\/>/,
    );

    // Annotations go to stderr with -o junit, so the XML on stdout stays clean.
    const notes = r.stderr.split('\n').filter((l) => l.startsWith('::'));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(
      /^::warning file=app\/workloads.yaml,line=1,title=drifted%3A apps\/v1 Deployment .*\/api::.*containers\[name=main\]\.image \(kubectl-set\)/,
    );
    expect(notes[1]).toMatch(
      new RegExp(
        `^::warning file=app/workloads.yaml,line=${workerLine},title=drifted%3A apps/v1 Deployment .*/worker::.*\\.spec\\.replicas \\(kubectl\\)`,
      ),
    );
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('### Drift at');
    expect(md).toMatch(
      /\| drifted \| apps\/v1 Deployment \S+\/worker \| `\.spec\.replicas` \| 2 \| 5 \| kubectl \(Update\) \|/,
    );
    expect(r.stdout + r.stderr).not.toContain('ci-Pa55');
  });

  it('rolls back by git revert: the agent applies the revert, and the audit log links it to the bad commit', async () => {
    const ns = await createNamespace('rollback');
    cleanups.push(ns.cleanup);
    const repo = git.createRepo('rollback');
    const good = repo.commit({ 'app/web.yaml': deploymentYaml('web', 'nginx:1.27', 2) }, 'web 1.27');
    const url = git.url('rollback', { username: 'ci', password: 'ci-Pa55' });
    const agent = await startAgent({
      apps: `  - name: rollback
    source: {repo: "${url}", ref: main, path: app, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: apply}
`,
    });
    cleanups.push(() => agent.stop('SIGKILL'));
    const applied = (sha: string | undefined, ms: number, what: string) =>
      waitFor(async () => (await agent.status()).apps[0]!.lastAppliedCommit === sha, ms, what);
    await applied(good, 30_000, 'first apply');
    const bad = repo.commit({ 'app/web.yaml': deploymentYaml('web', 'nginx:broken', 0) }, 'a bad release');
    await applied(bad, 15_000, 'bad commit applied');
    expect(await jsonpath(ns.name, 'deploy', 'web', '{.spec.template.spec.containers[0].image}')).toBe(
      'nginx:broken',
    );

    const r = await tether(['revert', bad, '--repo', url, '--ref', 'main', '--push'], {
      GIT_AUTHOR_NAME: 'On Call',
      GIT_AUTHOR_EMAIL: 'oncall@example.com',
    });
    expect(r.code, r.stderr).toBe(0);
    const revertSha = /^([0-9a-f]{40}) reverts /.exec(r.stdout)?.[1];
    expect(revertSha).toBeDefined();
    expect(r.stdout).toContain('modified app/web.yaml');
    expect(r.stdout).toContain('pushed');
    expect(r.stdout + r.stderr).not.toContain('ci-Pa55');

    await applied(revertSha, 15_000, 'revert applied');
    expect(
      await jsonpath(ns.name, 'deploy', 'web', '{.spec.template.spec.containers[0].image} {.spec.replicas}'),
    ).toBe('nginx:1.27 2');

    const records = await readAuditLog(agent.auditLog, { result: 'applied' });
    const byCommit = new Map(records.map((x) => [x.commit?.sha, x]));
    expect(byCommit.get(bad)?.commit?.message).toBe('a bad release');
    const revertRecord = byCommit.get(revertSha)!;
    expect(revertRecord.revertOf).toBe(bad);
    expect(revertRecord.commit!.author).toBe('On Call <oncall@example.com>');
    expect(revertRecord.commit!.message).toMatch(/^Revert "a bad release"/);
    const listing = await tether(['audit', '--audit-log', agent.auditLog, '--app', 'rollback']);
    expect(listing.stdout).toContain(`reverts ${bad.slice(0, 7)}`);
    expect(listing.stdout).toContain('a bad release');
  });
});
