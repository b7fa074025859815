/**
 * kubectl's conventions end to end: `-o yaml` beside `-o json`, one result shape for sync and
 * drift (with the manifest's file and line), did-you-mean on flag values, a Tether error for a
 * bad --log-level, `agent --listen :port` and its text logs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../support/git-server.ts';
import { createNamespace, kubeconfig, kubectl, repoRoot, tether } from '../support/cluster.ts';
import { freePort } from '../support/prometheus.ts';
import { configMap, toYaml } from '../support/objects.ts';

interface ResultsJson {
  commit: string;
  app: string;
  health: unknown;
  objects: Record<string, unknown>[];
}

const keysOf = (o: object) => Object.keys(o).sort();

describe('kubectl conventions', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let work: string;
  let sha: string;
  const args = () => ['--repo', git.url('deploy'), '--path', 'app', '-n', ns.name, '--app', 'conv'];

  beforeAll(async () => {
    git = await GitServer.start();
    repo = git.createRepo('deploy');
    ns = await createNamespace('conv');
    work = mkdtempSync(join(tmpdir(), 'tether-conv-'));
    sha = repo.commit({
      'app/cm.yaml': `# a comment first\n${toYaml(configMap({ name: 'cm', data: { a: '1' } }))}`,
    });
  });

  afterAll(async () => {
    await ns.cleanup();
    repo.dispose();
    await git.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('sync -o json and drift -o yaml print one shape, with file and line', async () => {
    const audit = ['--audit-log', join(work, 'audit.jsonl')];
    const synced = await tether(['sync', ...args(), ...audit, '-o', 'json']);
    expect(synced.code, synced.stderr).toBe(0);
    const s = JSON.parse(synced.stdout) as ResultsJson;
    expect(s).toMatchObject({ commit: sha, app: 'conv' });
    expect(s.objects[0]).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns.name,
      name: 'cm',
      status: 'created',
      fields: [],
      file: 'app/cm.yaml',
      line: 2,
    });

    await kubectl(['-n', ns.name, 'patch', 'configmap', 'cm', '--type', 'merge', '-p', '{"data":{"a":"2"}}']);
    const drift = await tether(['drift', ...args(), ...audit, '-o', 'yaml']);
    expect(drift.code, drift.stderr).toBe(1);
    const d = parse(drift.stdout) as ResultsJson;
    expect(keysOf(d)).toEqual(keysOf(s));
    expect(d).toMatchObject({ commit: sha, app: 'conv' });
    const o = d.objects[0]!;
    expect(keysOf(o)).toEqual(keysOf(s.objects[0]!));
    expect(o).toMatchObject({ status: 'drifted', file: 'app/cm.yaml', line: 2 });
    // Health is judged by drift (and sync --wait); sync alone leaves it null.
    expect(s.health).toBeNull();
    expect(s.objects[0]!.health).toBeNull();
    expect(d.health).toEqual({ status: 'Current' });
    expect(o.health).toMatchObject({ status: 'Current' });
    expect(o.fields).toEqual([
      expect.objectContaining({
        desired: '1',
        live: '2',
        owners: [expect.objectContaining({ operation: 'Update' })],
      }),
    ]);
  });

  it('diff -o yaml is the JSON object as YAML', async () => {
    const json = await tether(['diff', ...args(), '-o', 'json']);
    const yaml = await tether(['diff', ...args(), '-o', 'yaml']);
    expect(yaml.code, yaml.stderr).toBe(json.code);
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it('an invalid flag value exits 2 with the allowed values and the closest', async () => {
    const r = await tether(['drift', ...args(), '-o', 'jsn']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: option '-o, --output <format>' argument 'jsn' is invalid.");
    expect(r.stderr).toContain('Did you mean json?');
    const level = await tether(['agent', '--config', 'tether.yaml', '--log-level', 'verbose']);
    expect(level.code).toBe(2);
    expect(level.stderr).toContain(
      "argument 'verbose' is invalid. Allowed choices are trace, debug, info, warn, error.",
    );
    expect(level.stderr).not.toMatch(/TypeError|at .*\.ts:/);
  });

  it('agent --listen :port serves on every interface, with text logs on request', async () => {
    const port = await freePort();
    const config = join(work, 'tether.yaml');
    writeFileSync(
      config,
      `auditLog: ${join(work, 'agent-audit.jsonl')}
apps:
  - name: conv
    source: {repo: "${git.url('deploy')}", ref: main, path: app, interval: 1h}
    destination: {namespace: ${ns.name}, kubeconfig: ${kubeconfig()}}
    sync: {mode: report}
`,
    );
    const proc = spawn(
      process.execPath,
      [
        resolve(repoRoot, 'bin/tether.js'),
        'agent',
        '--config',
        config,
        '--listen',
        `:${port}`,
        '--log-format',
        'text',
      ],
      { env: { ...process.env, TETHER_AGENT_TUNING: 'off' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => proc.once('exit', r));
    try {
      let healthy = false;
      for (let i = 0; i < 400 && !healthy && proc.exitCode === null; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (!healthy) await sleep(50);
      }
      expect(healthy, stderr).toBe(true);
      expect(stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+ (INFO|DEBUG|WARN) /m);
      expect(stderr).not.toMatch(/^\{"level"/m);
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
  });
});
