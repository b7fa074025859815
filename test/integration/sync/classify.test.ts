/**
 * classify and missingNamespaces, in process, against the real kube-apiserver: the apply
 * policy, pending objects, the live state and the forced dry-run with drift and owners, and
 * the server's refusals (immutable fields, invalid values).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { APP_LABEL, FIELD_MANAGER, labelOf } from '../../../src/contract.ts';
import type { PlannedObject } from '../../../src/sync/plan.ts';
import type { Connection } from '../../../src/sync/pipeline.ts';
import { ImmutableFieldError, ObjectRejectedError, UnservedKindError } from '../../../src/sync/errors.ts';
import { classify, missingNamespaces, type Classification } from '../../../src/sync/classify.ts';
import type { Evaluation } from '../../../src/sync/evaluate.ts';
import { kubectl, kubectlJson } from '../../support/cluster.ts';
import { configMap, deployment, kubeObject, namespace, service, toYaml } from '../../support/objects.ts';
import {
  allRequests,
  applyPlanned,
  newCommit,
  planOf,
  planned,
  requests,
  syncTestContext,
  uniqueApp,
  writes,
} from './helpers.ts';

const t = syncTestContext('classify');
/** classify as the executor calls it for the planned object's own app. */
const classifyIn = (conn: Connection, p: PlannedObject, missingNamespaces: ReadonlySet<string> = new Set()) =>
  classify(conn, p, { app: labelOf(p.object, APP_LABEL)!, adopt: false, ignore: [], missingNamespaces });

function evaluationOf(c: Classification): Evaluation {
  expect(c.kind).toBe('evaluated');
  if (c.kind !== 'evaluated') throw new Error('not evaluated');
  return c.evaluation;
}

const replicasOf = (o: unknown): number => (o as { spec: { replicas: number } }).spec.replicas;

async function exists(ns: string, resource: string): Promise<boolean> {
  return (await kubectl(['-n', ns, 'get', resource, '--ignore-not-found', '-o', 'name'])).trim() !== '';
}

describe('classify', () => {
  it("returns 'ignored' for tether.dev/apply: ignore without reading the cluster", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const plan = planOf(
      conn,
      {
        'cm.yaml': [
          configMap({ name: 'hands-off', annotations: { 'tether.dev/apply': 'ignore' }, data: { a: '1' } }),
        ],
      },
      { namespace: ns, app: uniqueApp(), commit: newCommit() },
    );
    const before = allRequests(conn);
    expect(await classifyIn(conn, planned(plan, 'ConfigMap', 'hands-off'))).toEqual({
      kind: 'ignored',
    });
    expect(allRequests(conn)).toBe(before);
  });

  it("returns 'create-only' with the live object when a create-only object exists, and evaluates it when it does not", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    await kubectl(['-n', ns, 'create', 'configmap', 'seeded', '--from-literal=token=set-by-hand']);
    const plan = planOf(
      conn,
      {
        'cm.yaml': [
          configMap({
            name: 'seeded',
            annotations: { 'tether.dev/apply': 'create-only' },
            data: { token: 'x' },
          }),
          configMap({
            name: 'fresh',
            annotations: { 'tether.dev/apply': 'create-only' },
            data: { token: 'x' },
          }),
        ],
      },
      { namespace: ns, app: uniqueApp(), commit: newCommit() },
    );
    const seeded = await classifyIn(conn, planned(plan, 'ConfigMap', 'seeded'));
    expect(seeded.kind).toBe('create-only');
    if (seeded.kind !== 'create-only') return;
    expect(seeded.live.metadata.name).toBe('seeded');
    expect(seeded.live.data).toEqual({ token: 'set-by-hand' });

    const fresh = evaluationOf(await classifyIn(conn, planned(plan, 'ConfigMap', 'fresh')));
    expect(fresh.live).toBeUndefined();
    expect(fresh.dryRun?.data).toEqual({ token: 'x' });
  });

  it("returns 'evaluated' with no live object for a new object, from a dry-run that creates nothing", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const app = uniqueApp();
    const plan = planOf(
      conn,
      { 'web.yaml': [deployment({ name: 'web', replicas: 2 })] },
      {
        namespace: ns,
        app,
        commit: newCommit(),
      },
    );
    const writesBefore = writes(conn);
    const e = evaluationOf(await classifyIn(conn, planned(plan, 'Deployment', 'web')));
    expect(e.live).toBeUndefined();
    expect(e.same).toBe(false);
    expect(e.drift).toEqual([]);
    expect(e.conflicts).toEqual([]);
    expect(e.info).toMatchObject({ resource: 'deployments', namespaced: true });
    // The server's view of the object: namespace defaulted, Tether's labels, server defaults.
    const dry = e.dryRun as unknown as {
      metadata: { namespace: string; labels: Record<string, string>; managedFields: { manager: string }[] };
      spec: { replicas: number; strategy: { type: string } };
    };
    expect(dry.metadata.namespace).toBe(ns);
    expect(dry.metadata.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'tether',
      'tether.dev/app': app,
    });
    expect(dry.metadata.managedFields.map((f) => f.manager)).toEqual([FIELD_MANAGER]);
    expect(dry.spec.replicas).toBe(2);
    expect(dry.spec.strategy.type).toBe('RollingUpdate');
    expect(writes(conn)).toBe(writesBefore);
    expect(await exists(ns, 'deployment/web')).toBe(false);
  });

  it("returns 'evaluated' with the drifted field and kubectl as its Update owner after kubectl scale", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const plan = planOf(
      conn,
      { 'web.yaml': [deployment({ name: 'web', replicas: 1 })] },
      {
        namespace: ns,
        app: uniqueApp(),
        commit: newCommit(),
      },
    );
    const p = planned(plan, 'Deployment', 'web');
    await applyPlanned(conn, p);
    // Let the deployment controller finish writing its annotation and status: a live object
    // read before a status update and a dry-run after it differ by that status.
    await kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);

    const inSync = evaluationOf(await classifyIn(conn, p));
    expect(inSync.live).toBeDefined();
    expect(inSync.same).toBe(true);
    expect(inSync.drift).toEqual([]);

    await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=3']);
    const e = evaluationOf(await classifyIn(conn, p));
    expect(replicasOf(e.live)).toBe(3);
    expect(e.same).toBe(false);
    expect(e.drift).toHaveLength(1);
    const [field] = e.drift;
    expect(field).toMatchObject({ path: '.spec.replicas', desired: 1, live: 3 });
    expect(field!.owners).toHaveLength(1);
    expect(field!.owners[0]!.manager).toMatch(/^kubectl/);
    expect(field!.owners[0]!.operation).toBe('Update');
    // An imperative edit is drift, not a conflict between two declarative owners.
    expect(e.conflicts).toEqual([]);
    // The dry-run shows Git's value; the live object keeps kubectl's.
    expect(replicasOf(e.dryRun)).toBe(1);
    const live = await kubectlJson<{ spec: { replicas: number } }>(['-n', ns, 'get', 'deployment', 'web']);
    expect(live.spec.replicas).toBe(3);
  });

  it("returns 'pending' for an object in a namespace of missingNamespaces, and for a kind only the commit's CRD defines", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const newNs = `classify-new-${randomBytes(4).toString('hex')}`;
    const group = `t${randomBytes(4).toString('hex')}.example.com`;
    const crd = kubeObject(
      'apiextensions.k8s.io/v1',
      'CustomResourceDefinition',
      { name: `widgets.${group}` },
      {
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      },
    );
    const plan = planOf(
      conn,
      {
        'ns.yaml': [namespace({ name: newNs })],
        'cm.yaml': [configMap({ name: 'inside', namespace: newNs, data: { a: '1' } })],
        'crd.yaml': [crd, kubeObject(`${group}/v1`, 'Widget', { name: 'w' }, { spec: { size: 1 } })],
      },
      { namespace: ns, app: uniqueApp(), commit: newCommit() },
    );
    const missing = await missingNamespaces(conn, plan);
    expect([...missing]).toEqual([newNs]);

    const writesBefore = writes(conn);
    const dryRunsBefore = requests(conn, 'patch', true);
    expect(await classifyIn(conn, planned(plan, 'ConfigMap', 'inside'), missing)).toEqual({
      kind: 'pending',
      error: undefined,
    });

    const widget = await classifyIn(conn, planned(plan, 'Widget', 'w'));
    expect(widget.kind).toBe('pending');
    if (widget.kind !== 'pending') return;
    expect(widget.error).toBeInstanceOf(UnservedKindError);
    expect(widget.error?.id).toMatchObject({ group, kind: 'Widget', name: 'w', namespace: ns });
    expect(widget.error?.message).toMatch(/^crd\.yaml:\d+:\d+: /);
    // Neither was dry-run nor written.
    expect(requests(conn, 'patch', true)).toBe(dryRunsBefore);
    expect(writes(conn)).toBe(writesBefore);
  });

  // The server words this one "may not change once set", not "immutable".
  it("returns 'immutable' after a Service's clusterIP changes", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const app = uniqueApp();
    const first = planOf(
      conn,
      { 'svc.yaml': [service({ name: 'web' })] },
      { namespace: ns, app, commit: newCommit() },
    );
    const live = await applyPlanned(conn, planned(first, 'Service', 'web'));
    const ip = (live.spec as { clusterIP: string }).clusterIP;
    const octets = ip.split('.').map(Number);
    octets[3] = octets[3] === 200 ? 201 : 200;
    const svc = service({ name: 'web' });
    (svc.spec as Record<string, unknown>).clusterIP = octets.join('.');
    const second = planOf(conn, { 'svc.yaml': [svc] }, { namespace: ns, app, commit: newCommit() });

    const c = await classifyIn(conn, planned(second, 'Service', 'web'));
    expect(c.kind, c.kind === 'failed' ? c.error.message : '').toBe('immutable');
    if (c.kind !== 'immutable') return;
    expect(c.error).toBeInstanceOf(ImmutableFieldError);
    expect(c.error.message).toContain('tether.dev/recreate');
    expect(c.live.metadata.uid).toBe(live.metadata.uid);
  });

  it("returns 'immutable' with the live object after a Job's pod template changes", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const app = uniqueApp();
    const job = (image: string) =>
      kubeObject(
        'batch/v1',
        'Job',
        { name: 'migrate' },
        {
          spec: {
            template: {
              spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, command: ['true'] }] },
            },
          },
        },
      );
    const first = planOf(
      conn,
      { 'job.yaml': [job('busybox:1.36')] },
      { namespace: ns, app, commit: newCommit() },
    );
    const live = await applyPlanned(conn, planned(first, 'Job', 'migrate'));
    const second = planOf(
      conn,
      { 'job.yaml': [job('busybox:1.37')] },
      { namespace: ns, app, commit: newCommit() },
    );

    const writesBefore = writes(conn);
    const c = await classifyIn(conn, planned(second, 'Job', 'migrate'));
    expect(c.kind, c.kind === 'failed' ? c.error.message : '').toBe('immutable');
    if (c.kind !== 'immutable') return;
    expect(c.error).toBeInstanceOf(ImmutableFieldError);
    expect(c.error.id).toMatchObject({ group: 'batch', kind: 'Job', name: 'migrate', namespace: ns });
    expect(c.error.message).toMatch(/^job\.yaml:1:1: /);
    expect(c.error.message).toContain('spec.template');
    expect(c.error.message).toContain('tether.dev/recreate');
    expect(c.live.metadata.uid).toBe(live.metadata.uid);
    expect(c.info.resource).toBe('jobs');
    // Classifying wrote nothing: the Job keeps its first template.
    expect(writes(conn)).toBe(writesBefore);
    const now = await kubectlJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>([
      '-n',
      ns,
      'get',
      'job',
      'migrate',
    ]);
    expect(now.spec.template.spec.containers[0]!.image).toBe('busybox:1.36');
  });

  it("returns 'failed' with an ObjectRejectedError naming file:line for an object the server refuses", async () => {
    const conn = t.conn();
    const ns = await t.namespace();
    const text = toYaml(
      configMap({ name: 'fine', data: { a: '1' } }),
      deployment({ name: 'web', replicas: -1 }),
    );
    // The Deployment is the second document: its first line follows the separator.
    const line = text.split('\n').indexOf('---') + 2;
    const plan = planOf(
      conn,
      { 'apps/web.yaml': text },
      { namespace: ns, app: uniqueApp(), commit: newCommit() },
    );

    const c = await classifyIn(conn, planned(plan, 'Deployment', 'web'));
    expect(c.kind).toBe('failed');
    if (c.kind !== 'failed') return;
    expect(c.error).toBeInstanceOf(ObjectRejectedError);
    expect(c.error.source).toEqual({ file: 'apps/web.yaml', line, column: 1 });
    expect(c.error.message.startsWith(`apps/web.yaml:${line}:1: `)).toBe(true);
    expect(c.error.id).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'web',
    });
    expect(c.error.detail).toContain('spec.replicas');
    expect(c.error.detail).not.toContain('apps/web.yaml');
    expect(await exists(ns, 'deployment/web')).toBe(false);

    // The valid object of the same file is evaluated normally.
    expect(evaluationOf(await classifyIn(conn, planned(plan, 'ConfigMap', 'fine'))).live).toBe(undefined);
  });
});

describe('missingNamespaces', () => {
  it("finds only the plan's Namespaces that do not exist", async () => {
    const conn = t.conn();
    const existing = await t.namespace();
    const absent = `classify-absent-${randomBytes(4).toString('hex')}`;
    const notInPlan = `classify-elsewhere-${randomBytes(4).toString('hex')}`;
    const plan = planOf(
      conn,
      {
        'namespaces.yaml': [namespace({ name: existing }), namespace({ name: absent })],
        // A namespace the commit does not create is not "missing" here: its objects fail their dry-run.
        'cm.yaml': [configMap({ name: 'elsewhere', namespace: notInPlan, data: { a: '1' } })],
        // Namespaced objects of the default namespace do not count either.
        'cm-default.yaml': [configMap({ name: 'here', data: { a: '1' } })],
      },
      { namespace: existing, app: uniqueApp(), commit: newCommit() },
    );
    expect(await missingNamespaces(conn, plan)).toEqual(new Set([absent]));
    expect(
      await missingNamespaces(
        conn,
        plan.filter((p) => p.manifest.id.name !== absent),
      ),
    ).toEqual(new Set());
  });
});
