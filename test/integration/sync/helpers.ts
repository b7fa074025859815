/**
 * Shared set-up of the in-process sync tests: a Connection to the test control plane, a plan
 * built the way the pipeline builds one (manifests from in-memory files, planApply with
 * discovery), fresh namespaces, request counters and a real `kubectl edit`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { applyObject, type KubeObject } from '../../../src/cluster/apply.ts';
import type { IgnoreRule } from '../../../src/diff/ignore.ts';
import { loadManifests, type SourceFile } from '../../../src/manifests/index.ts';
import {
  applyCommit,
  DEFAULT_SETTINGS,
  type ApplyInput,
  type ApplyOutcome,
  type SyncSettings,
} from '../../../src/sync/execute.ts';
import { connect, type Connection } from '../../../src/sync/pipeline.ts';
import { planApply, type PlannedObject } from '../../../src/sync/plan.ts';
import { previewCommit, type Preview } from '../../../src/sync/preview.ts';
import { reportDrift, type ReportResult } from '../../../src/sync/report.ts';
import { createNamespace, kubeconfig, kubectl } from '../../support/cluster.ts';
import { configMap, toYaml } from '../../support/objects.ts';

const exec = promisify(execFile);

/** A fresh 40-hex commit sha (each apply of a new plan is a new commit). */
export function newCommit(): string {
  return randomBytes(20).toString('hex');
}

/** A unique app name: apps must never see each other's objects or inventories. */
export function uniqueApp(prefix = 'app'): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Files of a commit: a path -> YAML text, or objects written as YAML documents. */
export type Files = Record<string, string | object[]>;

export function sourceFiles(files: Files): SourceFile[] {
  return Object.entries(files).map(([path, body]) => ({
    path,
    content: Buffer.from(typeof body === 'string' ? body : toYaml(...body)),
  }));
}

export interface PlanOptions {
  namespace: string;
  app: string;
  commit: string;
}

/** The plan of a commit, as planFor builds it: loadManifests, then planApply on discovery. */
export function planOf(conn: Connection, files: Files, opts: PlanOptions): PlannedObject[] {
  const manifests = loadManifests(sourceFiles(files), { commit: opts.commit });
  return planApply({
    manifests,
    lookup: (g, v, k) => conn.discovery.cached(g, v, k),
    defaultNamespace: opts.namespace,
    commit: opts.commit,
    app: opts.app,
    source: sourceOf(opts.app),
  });
}

/** The source identity the tests record for an app (one source per app). */
export function sourceOf(app: string): string {
  return `git.example.test/deploy//${app}`;
}

/** The planned object of that kind and name (throws when the plan has none). */
export function planned(plan: PlannedObject[], kind: string, name: string): PlannedObject {
  const p = plan.find((x) => x.manifest.id.kind === kind && x.manifest.id.name === name);
  if (!p) throw new Error(`no ${kind} ${name} in the plan`);
  return p;
}

/** Applies one planned object as Tether does (SSA, field manager tether, forced): a live object to test against. */
export async function applyPlanned(conn: Connection, p: PlannedObject): Promise<KubeObject> {
  const { group, version, kind } = p.manifest.id;
  const info = await conn.discovery.lookup(group, version, kind);
  if (!info) throw new Error(`${kind} is not served`);
  return applyObject(conn.client, info, p.object, { force: true });
}

/** Requests this connection made with that verb, dry-run or not. */
export function requests(conn: Connection, verb: string, dryRun = false): number {
  return conn.client.requestCounts().find((c) => c.verb === verb && c.dryRun === dryRun)?.count ?? 0;
}

/** Writes this connection made (PATCH, POST, PUT, DELETE without dry-run). */
export function writes(conn: Connection): number {
  return ['patch', 'post', 'create', 'put', 'update', 'delete'].reduce((n, v) => n + requests(conn, v), 0);
}

/** Every request this connection made. */
export function allRequests(conn: Connection): number {
  return conn.client.requestCounts().reduce((n, c) => n + c.count, 0);
}

export function settings(overrides: Partial<SyncSettings> = {}): SyncSettings {
  return { ...DEFAULT_SETTINGS, ...overrides };
}

/** applyCommit's input for a plan of that commit, app and namespace (the app's source, default settings but `overrides`). */
export function applyInput(
  conn: Connection,
  plan: PlannedObject[],
  opts: PlanOptions,
  overrides: Partial<SyncSettings> = {},
): ApplyInput {
  return { ...conn, plan, ...opts, source: sourceOf(opts.app), settings: settings(overrides) };
}

/** Plans the files as that commit (planOf) and applies the plan (applyCommit). */
export function applyPlan(
  conn: Connection,
  files: Files,
  opts: PlanOptions,
  overrides: Partial<SyncSettings> = {},
): Promise<ApplyOutcome> {
  return applyCommit(applyInput(conn, planOf(conn, files, opts), opts, overrides));
}

/** previewCommit of a plan as that commit, app and namespace, with no ignore rules. */
export function preview(
  conn: Connection,
  plan: PlannedObject[],
  opts: PlanOptions,
  prune = true,
): Promise<Preview[]> {
  return previewCommit({ ...conn, plan, ...opts, source: sourceOf(opts.app), ignore: [], prune });
}

/** reportDrift of a plan for that app and namespace. */
export function report(
  conn: Connection,
  plan: PlannedObject[],
  opts: { app: string; namespace: string },
  ignore: IgnoreRule[] = [],
): Promise<ReportResult[]> {
  return reportDrift({ ...conn, plan, ...opts, source: sourceOf(opts.app), ignore });
}

/** ConfigMaps named so, each with data.key = its name. */
export function cms(...names: string[]): ReturnType<typeof configMap>[] {
  return names.map((name) => configMap({ name, data: { key: name } }));
}

/**
 * A real `kubectl edit` (field manager kubectl-edit, operation Update): the editor is sed,
 * run on the file kubectl opens.
 */
export async function kubectlEdit(namespace: string, resource: string, sedScript: string): Promise<void> {
  await exec('kubectl', ['--kubeconfig', kubeconfig(), '-n', namespace, 'edit', resource], {
    env: { ...process.env, KUBE_EDITOR: `sed -i -e '${sedScript}'`, EDITOR: '' },
  });
}

/**
 * Registers a Connection for the test file (opened before the first test, its client closed
 * after the last) and fresh namespaces per test (deleted after each test).
 */
export function syncTestContext(prefix: string): {
  conn: () => Connection;
  namespace: () => Promise<string>;
  /** What a test starts from: the connection, a fresh namespace and a unique app name (uniqueApp(appPrefix)). */
  fresh: (appPrefix: string) => Promise<{ conn: Connection; namespace: string; app: string }>;
} {
  let conn: Connection | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    conn = await connect({ kubeconfig: kubeconfig() });
  });
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });
  afterAll(() => {
    conn?.client.close();
  });
  const context = {
    conn: () => {
      if (!conn) throw new Error('no connection yet');
      return conn;
    },
    namespace: async () => {
      const ns = await createNamespace(prefix);
      cleanups.push(ns.cleanup);
      return ns.name;
    },
    fresh: async (appPrefix: string) => {
      const c = context.conn();
      return { conn: c, namespace: await context.namespace(), app: uniqueApp(appPrefix) };
    },
  };
  return context;
}

/** `Kind/name` -> status of each result, to compare a whole outcome at once. */
export function statuses(
  results: readonly { id: { kind: string; name: string }; status: string }[],
): Record<string, string> {
  return Object.fromEntries(results.map((r) => [`${r.id.kind}/${r.id.name}`, r.status]));
}

/** Names of the objects of one kind in a namespace, sorted. */
export async function namesOf(ns: string, resource: string): Promise<string[]> {
  const out = await kubectl(['-n', ns, 'get', resource, '-o', 'jsonpath={.items[*].metadata.name}']);
  return out.split(/\s+/).filter(Boolean).sort();
}
