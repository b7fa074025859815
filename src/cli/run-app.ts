/**
 * The skeleton every app command (sync, diff, drift) runs: resolve the app from flags and
 * config, read and validate the commit (before touching the cluster, so a bad commit fails
 * without one), connect, plan, hand the pieces to the command, and always close the
 * connection. A progress line on a terminal while objects are dry-run and applied.
 */
import type { App } from '../sync/app.ts';
import {
  connect,
  hooksFor,
  loadCommit,
  planFor,
  type Connection,
  type LoadedCommit,
} from '../sync/pipeline.ts';
import type { PlannedObject } from '../sync/plan.ts';
import { appFromCommand, type AppFlags } from './app-flags.ts';
import { terminalProgress } from './progress.ts';
import { maskError } from '../manifests/index.ts';

export interface AppRun {
  app: App;
  loaded: LoadedCommit;
  sha: string;
  conn: Connection;
  plan: PlannedObject[];
  /** What every stage takes: the connection, the plan, the commit and the app's identity. */
  target: Connection & {
    plan: PlannedObject[];
    commit: string;
    app: string;
    source: string;
    namespace: string;
  };
  /** Clears the progress line: call before printing. */
  endProgress: () => void;
}

export async function runApp<T>(
  flags: AppFlags,
  command: string,
  opts: { progress: boolean },
  work: (run: AppRun) => Promise<T>,
): Promise<T> {
  const resolved = await appFromCommand(flags, command);
  const { kubeconfig, context } = resolved.app.destination;
  // Connecting runs beside reading the commit: a chart renders with the cluster's version.
  const connecting = connect({ kubeconfig, context });
  connecting.catch(() => {});
  const loaded = await loadCommit(resolved.app, undefined, {
    kubeVersion: async () => (await connecting).discovery.serverVersion(),
  }).catch(async (e: unknown) => {
    await connecting.then((c) => c.client.close()).catch(() => {});
    throw e;
  });
  const base = await connecting;
  try {
    const app: App = resolved.namespaceFromContext
      ? {
          ...resolved.app,
          destination: { ...resolved.app.destination, namespace: base.client.contextNamespace ?? 'default' },
        }
      : resolved.app;
    const progress = terminalProgress(opts.progress);
    const conn = { ...base, onProgress: progress.report, mask: loaded.mask };
    const plan = planFor(app, loaded, conn);
    const sha = loaded.snapshot.commit.sha;
    const target = {
      ...conn,
      plan,
      hooks: hooksFor(app, loaded, conn),
      commit: sha,
      app: app.name,
      source: app.sourceId,
      namespace: app.destination.namespace,
    };
    return await work({
      app,
      loaded,
      sha,
      conn,
      plan,
      target,
      endProgress: () => progress.end(),
    });
  } catch (e) {
    // Whatever stops the command, its message may quote the commit's Secrets: mask them.
    throw maskError(e, loaded.mask);
  } finally {
    base.client.close();
  }
}
