/**
 * What real repositories contain, through the CLI against the real API server: a hook Job
 * with generateName, an immutable field that changes, one object defined twice (once through
 * the default namespace), a ConfigMap with `data: null`. Each gets a clear answer: an error
 * naming the place, a preview of everything else, or sync and drift agreeing.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, kubectl, tether } from '../support/cluster.ts';
import { gitServerSuite } from '../support/suite.ts';
import type { Repo } from '../support/git-server.ts';
import { configMap, kubeObject, toYaml } from '../support/objects.ts';

describe('repository shapes server-side apply cannot take as they are', () => {
  const suite = gitServerSuite();
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  const log = join(mkdtempSync(join(tmpdir(), 'tether-shapes-')), 'audit.jsonl');
  beforeAll(async () => {
    repo = suite.git().createRepo('shapes');
    ns = await createNamespace('shapes');
    suite.cleanups.push(
      () => Promise.resolve(repo.dispose()),
      () => ns.cleanup(),
    );
  });

  const run = (command: string, app: string, extra: string[] = []) =>
    tether([
      command,
      ...['--repo', suite.git().url('shapes'), '--path', app, '-n', ns.name, '--app', app],
      ...(command === 'diff' ? [] : ['--audit-log', log]),
      ...extra,
    ]);
  const live = (name: string) =>
    kubectl(['-n', ns.name, 'get', 'configmap', '--ignore-not-found', name, '-o', 'jsonpath={.data}']);

  it('refuses a generateName object, naming the place and hooks, and writes nothing', async () => {
    const sha = repo.commit({
      'hooks/cm.yaml': toYaml(configMap({ name: 'before-hook', data: { k: 'v' } })),
      'hooks/job.yaml': toYaml(
        kubeObject(
          'batch/v1',
          'Job',
          { name: 'ignored' },
          {
            spec: {
              template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'busybox' }] } },
            },
          },
        ),
      ).replace('name: ignored', 'generateName: migrate-'),
    });
    const r = await run('sync', 'hooks');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `hooks/job.yaml:4:17 (commit ${sha.slice(0, 7)}): metadata.generateName without metadata.name: Tether needs a fixed name to track the object (generateName is only allowed for hooks: a Job or Pod annotated tether.dev/hook)`,
    );
    expect(r.stderr).toMatch(/\(replace generateName with a fixed metadata\.name, or make the object a hook/);
    expect(await live('before-hook')).toBe('');
  });

  it('previews every other object when an immutable field changes, marks that one refused (exit 1), and recreates it when told', async () => {
    const files = (value: string) => ({
      'imm/a.yaml': toYaml({ ...configMap({ name: 'frozen', data: { k: value } }), immutable: true }),
      'imm/b.yaml': toYaml(configMap({ name: 'plain', data: { k: value } })),
    });
    repo.commit(files('v1'));
    expect((await run('sync', 'imm')).code).toBe(0);
    repo.commit(files('v2'));

    const diff = await run('diff', 'imm');
    expect(diff.stderr).toBe('');
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(
      `refused v1 ConfigMap ${ns.name}/frozen  (would be refused: immutable field .data; use --recreate or the tether.dev/recreate annotation)`,
    );
    expect(diff.stdout).toContain('-  k: v1\n+  k: v2');
    expect(diff.stdout).toContain(`update v1 ConfigMap ${ns.name}/plain`);
    const json = JSON.parse((await run('diff', 'imm', ['--recreate', '-o', 'json'])).stdout) as {
      objects: { name: string; action: string; message?: string }[];
    };
    expect(json.objects.map((o) => [o.name, o.action])).toEqual([
      ['frozen', 'recreate'],
      ['plain', 'update'],
    ]);

    // sync refuses the commit as before, naming the ways out; --recreate deletes and creates it.
    const refused = await run('sync', 'imm');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /frozen: .*field is immutable.*tether\.dev\/recreate: "true" or --recreate/,
    );
    expect(await live('plain')).toBe('{"k":"v1"}');
    const recreated = await run('sync', 'imm', ['--recreate']);
    expect(recreated.code, recreated.stderr).toBe(0);
    expect(recreated.stdout).toMatch(
      /configured v1 ConfigMap \S+\/frozen {2}\(recreated: an immutable field changed\)/,
    );
    expect(await live('frozen')).toBe('{"k":"v2"}');
  });

  it('refuses an object defined with the default namespace named and through it, naming both places and the commit', async () => {
    const sha = repo.commit({
      'dup/a.yaml': toYaml(configMap({ name: 'twice', namespace: ns.name, data: { k: 'a' } })),
      'dup/b.yaml': toYaml(configMap({ name: 'twice', data: { k: 'b' } })),
    });
    for (const command of ['sync', 'drift']) {
      const r = await run(command, 'dup');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `dup/b.yaml:1:1: v1 ConfigMap ${ns.name}/twice is defined twice in commit ${sha.slice(0, 7)}: here (the default namespace) and at dup/a.yaml:1:1 (its namespace named); keep one of the two definitions`,
      );
    }
    expect(await live('twice')).toBe('');
  });

  it('agrees between drift and sync on a ConfigMap with data: null that someone filled in', async () => {
    repo.commit({
      'nulls/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: empty\ndata: null\n',
    });
    expect((await run('sync', 'nulls')).code).toBe(0);
    await kubectl(['-n', ns.name, 'patch', 'configmap', 'empty', '--type=merge', '-p', '{"data":{"k":"v"}}']);
    const drift = await run('drift', 'nulls', ['-o', 'json']);
    expect(drift.code).toBe(0);
    expect((JSON.parse(drift.stdout) as { objects: { status: string }[] }).objects[0]!.status).toBe(
      'in-sync',
    );
    const before = readFileSync(log, 'utf8');
    const sync = await run('sync', 'nulls', ['-o', 'json']);
    expect(sync.code).toBe(0);
    expect((JSON.parse(sync.stdout) as { objects: { status: string }[] }).objects[0]!.status).toBe(
      'unchanged',
    );
    const record = JSON.parse(readFileSync(log, 'utf8').slice(before.length).trim()) as {
      result: string;
      objects: unknown[];
    };
    expect(record.result).toBe('in-sync');
    expect(record.objects).toEqual([]);
    expect(await live('empty')).toBe('{"k":"v"}');
  });
});
