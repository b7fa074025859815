/**
 * The pipeline both drivers (CLI and agent) run: source -> manifests -> plan -> execute or
 * report. This file only connects the stages; each stage lives in its own module.
 */
import { KubeClient, type ClientOptions } from '../cluster/client.ts';
import { Discovery } from '../cluster/discovery.ts';
import { directReader, type LiveReader } from '../cluster/live.ts';
import type { DryRunCache } from './dry-run-cache.ts';
import type { Manifest } from '../manifests/index.ts';
import { commitFiles, loadManifestsWithRenderers, type CommitFiles } from '../render/index.ts';
import { readSnapshot, type CommitInfo, type Snapshot } from '../source/index.ts';
import type { App } from './app.ts';
import { planApply, planHooks, type PlanInput, type PlannedHook, type PlannedObject } from './plan.ts';
import { secretMasker, type Masker } from '../manifests/index.ts';

export interface LoadedCommit {
  snapshot: Snapshot;
  manifests: Manifest[];
  /** Hides the commit's Secret values in messages (API server refusals quote manifest content). */
  mask: Masker;
}

/** Reads the commit's files under the app path (verifying its signature when required). */
export async function readCommit(app: App, sha?: string): Promise<Snapshot> {
  return readSnapshot(app.source, {
    ...(app.path ? { path: app.path } : {}),
    ...(app.include ? { include: app.include } : {}),
    ...(app.exclude ? { exclude: app.exclude } : {}),
    ...(sha ? { sha } : {}),
  });
}

/** What loading a commit may ask of the cluster: its version, for helm's .Capabilities. */
export interface LoadContext {
  kubeVersion?: () => Promise<string | undefined>;
}

/**
 * The commit's whole tree for its renderers (an overlay's bases, a chart's values files lie
 * outside the app path), read and materialized once per commit and shared by every app of
 * the repository. The signature was checked when the app's files were read.
 */
function wholeTree(app: App, sha: string): () => Promise<CommitFiles> {
  return () =>
    commitFiles(app.source.repo, sha, async () => {
      const unverified = { ...app.source, verify: { mode: 'off' as const } };
      return (await readSnapshot(unverified, { sha, lenient: true })).files;
    });
}

/** Turns a commit's files into validated manifests (all errors at once). */
export async function manifestsOf(app: App, snapshot: Snapshot, ctx: LoadContext = {}): Promise<Manifest[]> {
  const allowed = app.destination.allowedNamespaces;
  return loadManifestsWithRenderers(snapshot.files, {
    commit: snapshot.commit.sha,
    basePath: app.path,
    ...(allowed ? { allowedNamespaces: allowed } : {}),
    commitFiles: wholeTree(app, snapshot.commit.sha),
    allowCommands: app.render.allowCommands,
    allowRemoteBases: app.render.allowRemoteBases,
    ...(app.render.helmValues ? { helmValues: app.render.helmValues } : {}),
    namespace: app.destination.namespace,
    releaseName: app.name,
    ...(ctx.kubeVersion ? { kubeVersion: ctx.kubeVersion } : {}),
  });
}

export async function loadCommit(app: App, sha?: string, ctx: LoadContext = {}): Promise<LoadedCommit> {
  const snapshot = await readCommit(app, sha);
  const manifests = await manifestsOf(app, snapshot, ctx);
  return { snapshot, manifests, mask: secretMasker(snapshot.files, manifests) };
}

/** Commit metadata without the signature check, to describe a commit that was refused. */
export async function describeCommit(app: App, sha: string): Promise<CommitInfo | undefined> {
  try {
    return (await readCommit({ ...app, source: { ...app.source, verify: { mode: 'off' } } }, sha)).commit;
  } catch {
    return undefined;
  }
}

export interface Connection {
  client: KubeClient;
  discovery: Discovery;
  /** Live objects: GETs for the CLI, the watch cache for the agent. */
  live: LiveReader;
  /** Dry-run results reused across reconciles (the agent keeps one per app). */
  dryRuns?: DryRunCache;
  /** Told after each object of a long phase ('dry-run', 'apply'), for a terminal progress line. */
  onProgress?: (phase: string, done: number, total: number) => void;
  /** The commit's Secret masker: API server refusals are masked before they become messages. */
  mask?: Masker;
}

export async function connect(options: ClientOptions): Promise<Connection> {
  const client = await KubeClient.create(options);
  const discovery = new Discovery(client);
  await discovery.refresh();
  return { client, discovery, live: directReader(client) };
}

export function planFor(app: App, loaded: LoadedCommit, conn: Connection): PlannedObject[] {
  return planApply(planInput(app, loaded, conn));
}

/** The commit's sync hooks (src/sync/hooks.ts), beside the plan. */
export function hooksFor(app: App, loaded: LoadedCommit, conn: Connection): PlannedHook[] {
  return planHooks(planInput(app, loaded, conn));
}

function planInput(app: App, loaded: LoadedCommit, conn: Connection): PlanInput {
  return {
    manifests: loaded.manifests,
    lookup: (g, v, k) => conn.discovery.cached(g, v, k),
    defaultNamespace: app.destination.namespace,
    commit: loaded.snapshot.commit.sha,
    app: app.name,
    source: app.sourceId,
    ...(app.destination.allowedNamespaces ? { allowedNamespaces: app.destination.allowedNamespaces } : {}),
  };
}
