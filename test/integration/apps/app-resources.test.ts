/**
 * App resources end to end: a real agent (appResources enabled, its own shard label so the
 * Apps of other test files are not its), Apps created and changed with kubectl and the tether
 * CLI as a user runs them, the real API server deciding RBAC, impersonation and finalizers.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../../src/audit/index.ts';
import { startAgent, waitFor, type RunningAgent } from '../../support/agent.ts';
import { createNamespace, kubeconfig, kubectl, tether } from '../../support/cluster.ts';
import type { GitServer } from '../../support/git-server.ts';
import { configMap, service, toYaml } from '../../support/objects.ts';
import { gitServerSuite } from '../../support/suite.ts';

const shard = `shard-${randomBytes(3).toString('hex')}`;
const SHARD_LABEL = 'tether.test/shard';

interface AppOpts {
  path: string;
  prune?: boolean;
  interval?: string;
  serviceAccountName?: string;
  extraSpec?: string;
}

/** An App manifest in this suite's shard. */
function appYaml(name: string, ns: string, repo: string, o: AppOpts): string {
  return `apiVersion: tether.dev/v1alpha1
kind: App
metadata:
  name: ${name}
  namespace: ${ns}
  labels: {${SHARD_LABEL}: ${shard}}
spec:
  prune: ${o.prune ?? true}
${o.serviceAccountName ? `  serviceAccountName: ${o.serviceAccountName}\n` : ''}  source: {repo: "${repo}", ref: main, path: ${o.path}, interval: ${o.interval ?? '1s'}}
${o.extraSpec ?? ''}`;
}

interface AppJson {
  metadata: { finalizers?: string[]; generation: number };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    state?: string;
    health?: string;
    commit?: string;
    lastAppliedCommit?: string;
    lastError?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

async function getApp(ns: string, name: string): Promise<AppJson | undefined> {
  try {
    return JSON.parse(await kubectl(['-n', ns, 'get', 'apps.tether.dev', name, '-o', 'json'])) as AppJson;
  } catch {
    return undefined;
  }
}

const cond = (a: AppJson | undefined, type: string) => a?.status?.conditions?.find((c) => c.type === type);

/** Waits until the App's condition `type` is True; resolves with the App then. */
async function conditionTrue(
  ns: string,
  name: string,
  type: 'Ready' | 'Stalled',
  ms = 30_000,
): Promise<AppJson> {
  const { value } = await waitFor(
    async () => {
      const a = await getApp(ns, name);
      return cond(a, type)?.status === 'True' ? a : undefined;
    },
    ms,
    `${ns}/${name} ${type} True`,
  );
  return value;
}

async function cmValue(ns: string, name: string): Promise<string | undefined> {
  try {
    return await kubectl(['-n', ns, 'get', 'configmap', name, '-o', 'jsonpath={.data.key}']);
  } catch {
    return undefined;
  }
}

const cm = (name: string, value: string) => toYaml(configMap({ name, data: { key: value } }));

describe('App resources (apps.tether.dev)', () => {
  const suite = gitServerSuite();
  const { cleanups } = suite;
  let git: GitServer;
  let agent: RunningAgent;
  beforeAll(async () => {
    git = suite.git();
    // Runs last (clean-ups run in reverse), once the agent is gone: without it the prune
    // finalizers of this suite's Apps would hold their namespaces in Terminating for good.
    cleanups.push(async () => {
      const apps = await kubectl([
        'get',
        'apps.tether.dev',
        '-A',
        '-l',
        `${SHARD_LABEL}=${shard}`,
        '-o',
        'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
      ]);
      for (const app of apps.split('\n').filter(Boolean)) {
        const [ns, name] = app.split('/');
        await kubectl([
          '-n',
          ns!,
          'patch',
          'apps.tether.dev',
          name!,
          '--type=merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
      }
    });
    // As a user installs it: the CLI applies the CRD the chart ships (idempotent on a shared cluster).
    const installed = await tether(['install-crds', '--kubeconfig', kubeconfig()]);
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    agent = await startAgent({
      apps: '  []\n',
      extra: `appResources: {enabled: true, labelSelector: "${SHARD_LABEL}=${shard}"}\n`,
      env: { KUBECONFIG: kubeconfig() },
    });
    cleanups.push(() => agent.stop('SIGKILL'));
  });
  const namespace = async (prefix: string) => {
    const ns = await createNamespace(prefix);
    cleanups.push(ns.cleanup);
    return ns.name;
  };

  it('applies an App created with kubectl, fills its status columns, and takes a path change without a restart', async () => {
    const ns = await namespace('app-create');
    const repo = git.createRepo('app-create');
    const sha = repo.commit({ 'one/a.yaml': cm('one', 'v1'), 'two/b.yaml': cm('two', 'v1') }, 'two dirs');
    // The move below replaces every object: the prune guard would refuse it (and say so) without pruneGuard: false.
    await kubectl(
      ['apply', '-f', '-'],
      appYaml('web', ns, git.url('app-create'), { path: 'one', extraSpec: '  sync: {pruneGuard: false}\n' }),
    );
    await waitFor(async () => (await cmValue(ns, 'one')) === 'v1', 30_000, 'the App applied');
    const ready = await waitFor(
      async () => {
        const a = await getApp(ns, 'web');
        return cond(a, 'Ready')?.status === 'True' && a?.status?.health === 'Current' ? a : undefined;
      },
      30_000,
      'Ready True',
    );
    expect(ready.value.status).toMatchObject({
      observedGeneration: ready.value.metadata.generation,
      state: 'in-sync',
      commit: sha.slice(0, 12),
      lastAppliedCommit: sha,
    });
    expect(cond(ready.value, 'Synced')).toMatchObject({ status: 'True', reason: 'InSync' });
    expect(cond(ready.value, 'Reconciling')).toMatchObject({ status: 'False' });
    // The printer columns, as kubectl shows them.
    const table = await kubectl(['get', 'apps.tether.dev', '-A']);
    const row = table.split('\n').find((l) => l.startsWith(`${ns} `));
    expect(row).toMatch(
      new RegExp(`^${ns}\\s+web\\s+True\\s+in-sync\\s+${sha.slice(0, 12)}\\s+Current\\s+\\d+s`),
    );
    // The same through the tether CLI, from the API server alone.
    const got = await tether(['get', 'apps', '-n', ns, '--kubeconfig', kubeconfig()]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`web\\s+True\\s+in-sync\\s+${sha.slice(0, 12)}\\s+Current`));
    const status = await tether(['status', '-n', ns, '--kubeconfig', kubeconfig()]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/web\s+True\s+in-sync/);

    // Idle ticks (a poll every second) write nothing: no apply, no dry-run, no status patch, no GET.
    const requests = async () => ({
      patches: await agent.metric('tether_api_requests_total', { verb: 'patch' }),
      gets: await agent.metric('tether_api_requests_total', { verb: 'get' }),
    });
    // (The first apply's last writes, such as the audit anchor after the healthy record, settle first.)
    let last = await requests();
    await waitFor(
      async () => {
        const now = await requests();
        const quiet = JSON.stringify(now) === JSON.stringify(last);
        last = now;
        return quiet;
      },
      20_000,
      'no request for 1.5 s',
      1_500,
    );
    await sleep(3_000);
    expect(await requests()).toEqual(last);

    const pid = agent.proc.pid;
    await kubectl([
      '-n',
      ns,
      'patch',
      'apps.tether.dev',
      'web',
      '--type=merge',
      '-p',
      '{"spec":{"source":{"path":"two"}}}',
    ]);
    await waitFor(async () => (await cmValue(ns, 'two')) === 'v1', 30_000, 'the new path applied');
    // prune: true, so the old path's object goes with the change.
    await waitFor(async () => (await cmValue(ns, 'one')) === undefined, 30_000, 'the old path pruned');
    expect(agent.proc.pid).toBe(pid);
    expect(agent.proc.exitCode).toBeNull();
    await waitFor(
      async () => (await getApp(ns, 'web'))?.status?.observedGeneration === 2,
      10_000,
      'observedGeneration follows the change',
    );
  });

  it('refuses an App it cannot run with the reason in its status, and a name another App holds', async () => {
    const ns = await namespace('app-refuse');
    const other = await namespace('app-refuse2');
    const repo = git.createRepo('app-refuse');
    repo.commit({ 'app/a.yaml': cm('refuse', 'v1') }, 'one');
    await kubectl(['apply', '-f', '-'], appYaml('local', ns, '/etc', { path: 'app' }));
    const refused = await conditionTrue(ns, 'local', 'Stalled');
    expect(cond(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(refused.status?.lastError).toMatch(/^spec\.source\.repo: "\/etc" is not a remote repository/);
    expect(refused.status?.state).toBe('error');

    await kubectl(['apply', '-f', '-'], appYaml('same', ns, git.url('app-refuse'), { path: 'app' }));
    await conditionTrue(ns, 'same', 'Ready');
    await kubectl(['apply', '-f', '-'], appYaml('same', other, git.url('app-refuse'), { path: 'app' }));
    const clash = await conditionTrue(other, 'same', 'Stalled');
    expect(cond(clash, 'Ready')).toMatchObject({ status: 'False', reason: 'NameClash' });
    expect(clash.status?.lastError).toContain(`App ${ns}/same already runs an app named "same"`);
    // The first keeps running; the second wrote nothing in its namespace.
    expect(await cmValue(ns, 'refuse')).toBe('v1');
    expect(await cmValue(other, 'refuse')).toBeUndefined();
  });

  it("gives a name to the config file's app over an App resource, and back when the file lets it go", async () => {
    const ns = await namespace('app-clash');
    const repo = git.createRepo('app-clash');
    repo.commit({ 'r/a.yaml': cm('from-resource', 'v1'), 'c/a.yaml': cm('from-config', 'v1') }, 'two dirs');
    await kubectl(['apply', '-f', '-'], appYaml('taken', ns, git.url('app-clash'), { path: 'r' }));
    await conditionTrue(ns, 'taken', 'Ready');
    const original = readFileSync(agent.configFile, 'utf8');
    // The config file (re-read while the agent runs) declares an app of the same name.
    writeFileSync(
      agent.configFile,
      original.replace(
        /apps:\n.*$/s,
        `apps:
  - name: taken
    source: {repo: "${git.url('app-clash')}", ref: main, path: c, interval: 1s}
    destination: {namespace: ${ns}}
`,
      ),
    );
    try {
      await waitFor(
        async () => (await cmValue(ns, 'from-config')) === 'v1',
        30_000,
        "the config file's app applied",
      );
      const clash = await conditionTrue(ns, 'taken', 'Stalled');
      expect(cond(clash, 'Ready')).toMatchObject({ status: 'False', reason: 'NameClash' });
      expect(clash.status?.lastError).toBe('app "taken" is already defined in the agent\'s config file');
    } finally {
      writeFileSync(agent.configFile, original);
    }
    await conditionTrue(ns, 'taken', 'Ready');
  });

  it('suspends, resumes and reconciles an App from the CLI', async () => {
    const ns = await namespace('app-verbs');
    const repo = git.createRepo('app-verbs');
    repo.commit({ 'app/a.yaml': cm('verbs', 'v1') }, 'v1');
    // An hour between polls: only a requested reconcile (or resume) picks up a push.
    await kubectl(
      ['apply', '-f', '-'],
      appYaml('verbs', ns, git.url('app-verbs'), { path: 'app', interval: '1h' }),
    );
    await waitFor(async () => (await cmValue(ns, 'verbs')) === 'v1', 30_000, 'v1 applied');
    const kc = ['-n', ns, '--kubeconfig', kubeconfig()];

    const v2 = repo.commit({ 'app/a.yaml': cm('verbs', 'v2') }, 'v2');
    const reconciled = await tether(['reconcile', 'app', 'verbs', ...kc, '--timeout', '60s']);
    expect(reconciled.stderr).toBe('');
    expect(reconciled.code).toBe(0);
    expect(reconciled.stdout).toMatch(
      new RegExp(`app ${ns}/verbs reconciled: commit ${v2.slice(0, 12)} is applied and healthy`),
    );
    expect(await cmValue(ns, 'verbs')).toBe('v2');

    const suspended = await tether(['suspend', 'app', 'verbs', ...kc]);
    expect(suspended.code).toBe(0);
    expect(suspended.stdout).toBe(`app ${ns}/verbs suspended\n`);
    await waitFor(
      async () => (await getApp(ns, 'verbs'))?.status?.state === 'suspended',
      20_000,
      'suspended state',
    );
    expect(cond(await getApp(ns, 'verbs'), 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'Suspended',
    });
    const v3 = repo.commit({ 'app/a.yaml': cm('verbs', 'v3') }, 'v3');
    const whileSuspended = await tether(['reconcile', 'app', 'verbs', ...kc, '--timeout', '30s']);
    expect(whileSuspended.code).not.toBe(0);
    expect(whileSuspended.stderr).toMatch(/reconciled but not Ready \(Suspended\)/);
    expect(await cmValue(ns, 'verbs')).toBe('v2');

    const resumed = await tether(['resume', 'app', 'verbs', ...kc]);
    expect(resumed.stdout).toBe(`app ${ns}/verbs resumed\n`);
    await waitFor(async () => (await cmValue(ns, 'verbs')) === 'v3', 30_000, 'v3 applied on resume');
    await waitFor(
      async () => (await getApp(ns, 'verbs'))?.status?.lastAppliedCommit === v3,
      20_000,
      'status v3',
    );

    const missing = await tether(['reconcile', 'app', 'nope', ...kc]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`app "nope" not found in namespace ${ns}`);
    expect(missing.stderr).toContain('verbs');
  });

  it("applies as the App's ServiceAccount: a kind its RBAC forbids is a clear error and nothing is written", async () => {
    const ns = await namespace('app-sa');
    const repo = git.createRepo('app-sa');
    repo.commit(
      { 'app/a.yaml': cm('sa-config', 'v1'), 'app/svc.yaml': toYaml(service({ name: 'sa-svc' })) },
      'a ConfigMap and a Service',
    );
    await kubectl(['-n', ns, 'create', 'serviceaccount', 'deployer']);
    await kubectl([
      '-n',
      ns,
      'create',
      'role',
      'configmaps-only',
      '--verb=get,list,watch,create,update,patch,delete',
      '--resource=configmaps',
    ]);
    await kubectl([
      '-n',
      ns,
      'create',
      'rolebinding',
      'deployer',
      '--role=configmaps-only',
      `--serviceaccount=${ns}:deployer`,
    ]);
    await kubectl(
      ['apply', '-f', '-'],
      appYaml('sa', ns, git.url('app-sa'), { path: 'app', serviceAccountName: 'deployer' }),
    );
    const forbidden = await waitFor(
      async () => {
        const a = await getApp(ns, 'sa');
        return a?.status?.lastError?.includes('forbidden') ? a : undefined;
      },
      30_000,
      'a forbidden error in the status',
    );
    expect(forbidden.value.status?.lastError).toMatch(/system:serviceaccount:.*:deployer/);
    expect(forbidden.value.status?.lastError).toMatch(/services/);
    expect(cond(forbidden.value, 'Ready')?.status).toBe('False');
    // Every object is dry-run before the first write: the allowed ConfigMap was not written either.
    expect(await cmValue(ns, 'sa-config')).toBeUndefined();
    // The agent itself could write Services: RBAC of the ServiceAccount decided.
    await kubectl([
      '-n',
      ns,
      'create',
      'role',
      'services',
      '--verb=get,list,watch,create,update,patch,delete',
      '--resource=services',
    ]);
    await kubectl([
      '-n',
      ns,
      'create',
      'rolebinding',
      'deployer-services',
      '--role=services',
      `--serviceaccount=${ns}:deployer`,
    ]);
    await waitFor(async () => (await cmValue(ns, 'sa-config')) === 'v1', 30_000, 'applied once allowed');
    const managers = await kubectl([
      '-n',
      ns,
      'get',
      'service',
      'sa-svc',
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(managers).toContain('tether');
  });

  it('manages child Apps from Git (app-of-apps) and never prunes their objects itself', async () => {
    const ns = await namespace('app-of-apps');
    const repo = git.createRepo('app-of-apps');
    const url = git.url('app-of-apps');
    const sha = repo.commit(
      {
        'apps/a.yaml': appYaml('child-a', ns, url, { path: 'a' }),
        'apps/b.yaml': appYaml('child-b', ns, url, { path: 'b' }),
        'apps/cm.yaml': cm('parent-config', 'v1'),
        'a/cm.yaml': cm('child-a', 'v1'),
        'b/cm.yaml': cm('child-b', 'v1'),
      },
      'two child apps',
    );
    await kubectl(['apply', '-f', '-'], appYaml('parent', ns, url, { path: 'apps' }));
    await waitFor(
      async () => (await cmValue(ns, 'child-a')) === 'v1' && (await cmValue(ns, 'child-b')) === 'v1',
      45_000,
      'both children applied',
    );
    for (const child of ['child-a', 'child-b']) {
      const labels = await kubectl([
        '-n',
        ns,
        'get',
        'configmap',
        child,
        '-o',
        'jsonpath={.metadata.labels.tether\\.dev/app}',
      ]);
      expect(labels).toBe(child);
      const owner = await kubectl([
        '-n',
        ns,
        'get',
        'apps.tether.dev',
        child,
        '-o',
        'jsonpath={.metadata.labels.tether\\.dev/app}',
      ]);
      expect(owner).toBe('parent');
    }
    // Apps come before the parent's other kinds in its record.
    const applied = (await readAuditLog(agent.auditLog, { app: 'parent' })).find(
      (r) => r.commit?.sha === sha,
    );
    const kinds = applied?.objects.map((o) => o.kind) ?? [];
    expect(kinds.indexOf('App')).toBeLessThan(kinds.indexOf('ConfigMap'));

    // child-b leaves Git: the parent prunes the App, and the App's finalizer prunes child-b's objects.
    repo.commit({ 'apps/b.yaml': null }, 'drop child-b');
    await waitFor(async () => (await getApp(ns, 'child-b')) === undefined, 45_000, 'child-b App deleted');
    await waitFor(
      async () => (await cmValue(ns, 'child-b')) === undefined,
      30_000,
      "child-b's objects pruned",
    );
    expect(await cmValue(ns, 'child-a')).toBe('v1');
    const parentRecords = await readAuditLog(agent.auditLog, { app: 'parent' });
    const parentPruned = parentRecords.flatMap((r) => r.objects.filter((o) => o.action === 'pruned'));
    expect(parentPruned.map((o) => `${o.kind}/${o.name}`)).toEqual(['App/child-b']);
  });

  it('prunes exactly its objects when an App with spec.prune is deleted, and leaves them without', async () => {
    const ns = await namespace('app-delete');
    const repo = git.createRepo('app-delete');
    const url = git.url('app-delete');
    repo.commit(
      { 'p/a.yaml': cm('pruned-a', 'v1'), 'p/b.yaml': cm('pruned-b', 'v1'), 'k/c.yaml': cm('kept', 'v1') },
      'two apps',
    );
    await kubectl(['-n', ns, 'create', 'configmap', 'bystander', '--from-literal=key=v1']);
    await kubectl(['apply', '-f', '-'], appYaml('pruning', ns, url, { path: 'p', prune: true }));
    await kubectl(['apply', '-f', '-'], appYaml('keeping', ns, url, { path: 'k', prune: false }));
    await waitFor(
      async () => (await cmValue(ns, 'pruned-b')) === 'v1' && (await cmValue(ns, 'kept')) === 'v1',
      30_000,
      'both applied',
    );
    await waitFor(
      async () => (await getApp(ns, 'pruning'))?.metadata.finalizers?.includes('tether.dev/prune'),
      10_000,
      'the prune finalizer',
    );
    expect((await getApp(ns, 'keeping'))?.metadata.finalizers ?? []).not.toContain('tether.dev/prune');

    await kubectl(['-n', ns, 'delete', 'apps.tether.dev', 'pruning', '--timeout=60s']);
    expect(await getApp(ns, 'pruning')).toBeUndefined();
    expect(await cmValue(ns, 'pruned-a')).toBeUndefined();
    expect(await cmValue(ns, 'pruned-b')).toBeUndefined();
    expect(await cmValue(ns, 'bystander')).toBe('v1');
    expect(await cmValue(ns, 'kept')).toBe('v1');
    const records = await readAuditLog(agent.auditLog, { app: 'pruning' });
    const deletion = records.find((r) => (r.details as { appDeleted?: boolean } | undefined)?.appDeleted);
    expect(deletion?.objects.map((o) => `${o.action} ${o.name}`).sort()).toEqual([
      'pruned pruned-a',
      'pruned pruned-b',
    ]);

    await kubectl(['-n', ns, 'delete', 'apps.tether.dev', 'keeping', '--timeout=60s']);
    await sleep(2_000);
    expect(await cmValue(ns, 'kept')).toBe('v1');
  });

  it('finishes what it was asked while it was down: an App deleted meanwhile is pruned by the next agent', async () => {
    const ns = await namespace('app-restart');
    const repo = git.createRepo('app-restart');
    repo.commit({ 'p/a.yaml': cm('restart-a', 'v1') }, 'one object');
    await kubectl(['apply', '-f', '-'], appYaml('restart', ns, git.url('app-restart'), { path: 'p' }));
    await waitFor(async () => (await cmValue(ns, 'restart-a')) === 'v1', 30_000, 'applied');
    await waitFor(
      async () => (await getApp(ns, 'restart'))?.metadata.finalizers?.includes('tether.dev/prune'),
      10_000,
      'the prune finalizer',
    );
    // The agent dies; the App is deleted while none runs: the finalizer holds it.
    await agent.stop('SIGKILL');
    await kubectl(['-n', ns, 'delete', 'apps.tether.dev', 'restart', '--wait=false']);
    await sleep(1_000);
    expect(await getApp(ns, 'restart')).toBeDefined();
    expect(await cmValue(ns, 'restart-a')).toBe('v1');
    // A new agent knows nothing but what the cluster and the audit log hold, and that is enough.
    agent = await startAgent({
      apps: '  []\n',
      extra: `appResources: {enabled: true, labelSelector: "${SHARD_LABEL}=${shard}"}\n`,
      env: { KUBECONFIG: kubeconfig() },
      dir: agent.dir,
    });
    cleanups.push(() => agent.stop('SIGKILL'));
    await waitFor(async () => (await getApp(ns, 'restart')) === undefined, 30_000, 'the App gone');
    expect(await cmValue(ns, 'restart-a')).toBeUndefined();
  });
});
