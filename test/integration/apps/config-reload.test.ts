/**
 * The agent's config file, changed while it runs: a real agent process re-reads it without a
 * restart, refuses an invalid one with its file:line while the apps in force keep running.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor } from '../../support/agent.ts';
import { createNamespace, kubeconfig, kubectl } from '../../support/cluster.ts';
import type { GitServer } from '../../support/git-server.ts';
import { configMap, toYaml } from '../../support/objects.ts';
import { gitServerSuite } from '../../support/suite.ts';

const cm = (name: string, value: string) => toYaml(configMap({ name, data: { key: value } }));

async function cmValue(ns: string, name: string): Promise<string | undefined> {
  try {
    return await kubectl(['-n', ns, 'get', 'configmap', name, '-o', 'jsonpath={.data.key}']);
  } catch {
    return undefined;
  }
}

/** An out-of-band edit of a ConfigMap's value, as a person with kubectl makes it. */
const edit = (ns: string, name: string) =>
  kubectl(['-n', ns, 'patch', 'configmap', name, '--type=merge', '-p', '{"data":{"key":"edited"}}']);

interface ReloadStatus {
  apps: { name: string; state: string }[];
  config?: { file: string; error: string | null };
}

describe('config file reload', () => {
  const suite = gitServerSuite();
  let git: GitServer;
  beforeAll(() => {
    git = suite.git();
  });

  it('puts a changed config file in force without a restart, and refuses an invalid one while the old one runs', async () => {
    const ns = await createNamespace('reload');
    suite.cleanups.push(ns.cleanup);
    const repo = git.createRepo('reload');
    repo.commit({ 'a/cm.yaml': cm('first', 'v1'), 'b/cm.yaml': cm('second', 'v1') }, 'two apps');
    const app = (name: string, path: string, mode = 'apply') =>
      `  - name: ${name}
    source: {repo: "${git.url('reload')}", ref: main, path: ${path}, interval: 1s}
    destination: {namespace: ${ns.name}, kubeconfig: ${kubeconfig()}}
    sync: {mode: ${mode}}
`;
    const a = await startAgent({ apps: app('first', 'a') });
    suite.cleanups.push(() => a.stop('SIGKILL'));
    const status = async () => (await (await fetch(`${a.url}/status`)).json()) as ReloadStatus;
    await waitFor(async () => (await cmValue(ns.name, 'first')) === 'v1', 30_000, 'first applied');
    const original = readFileSync(a.configFile, 'utf8');
    const pid = a.proc.pid;

    // A second app, added to the file.
    writeFileSync(a.configFile, original + app('second', 'b'));
    await waitFor(
      async () => (await cmValue(ns.name, 'second')) === 'v1',
      30_000,
      'second applied after reload',
    );
    expect((await status()).apps.map((s) => s.name).sort()).toEqual(['first', 'second']);
    expect(a.logs()).toContain('config file reloaded');

    // An invalid file: refused with file:line:column, the apps in force keep running.
    const broken = original + app('second', 'b', 'aply');
    writeFileSync(a.configFile, broken);
    const refused = await waitFor(
      async () => (await status()).config?.error ?? undefined,
      10_000,
      'the refusal on /status',
    );
    const line = broken.split('\n').findIndex((l) => l.includes('mode: aply')) + 1;
    expect(refused.value).toContain(`${a.configFile}:${line}:`);
    expect(refused.value).toMatch(/"aply" is not allowed; use one of: apply, report/);
    expect(a.logs()).toContain('config file refused; the previous one stays in force');
    expect((await status()).apps.map((s) => s.name).sort()).toEqual(['first', 'second']);
    await edit(ns.name, 'second');
    await waitFor(
      async () => (await cmValue(ns.name, 'second')) === 'v1',
      10_000,
      'still healed under the old file',
    );

    // Back to one app: the other stops (its objects stay: removing an app is not a prune).
    writeFileSync(a.configFile, original);
    await waitFor(
      async () => {
        const s = await status();
        return s.config?.error === null && s.apps.length === 1 ? s : undefined;
      },
      10_000,
      'one app and no error',
    );
    await edit(ns.name, 'second');
    await edit(ns.name, 'first');
    await waitFor(async () => (await cmValue(ns.name, 'first')) === 'v1', 10_000, 'first still healed');
    expect(await cmValue(ns.name, 'second')).toBe('edited');
    expect(a.proc.pid).toBe(pid);
    expect(a.proc.exitCode).toBeNull();
  });
});
