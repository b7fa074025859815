/**
 * A commit's diff against the live cluster, computed as `tether diff` computes it: the
 * commit read and rendered as the agent loads it, every object server-side dry-run (no
 * write: only reads and dry-runs), the changed fields with who owns them today, and the
 * unified YAML diff live -> Git with Secret values masked. One diff at a time: a diff asked
 * for while another is computed shares it if it is the same, else is refused (429).
 */
import { previewJson, yamlDiff } from '../../cli/diff.ts';
import { maskError } from '../../manifests/index.ts';
import { differs } from '../../sync/outcome.ts';
import { loadCommit, planFor } from '../../sync/pipeline.ts';
import { previewCommit } from '../../sync/preview.ts';
import type { RunnerView } from '../../agent/runner-view.ts';
import type { DiffView } from '../shared/api.ts';
import { commitOfInfo } from './views.ts';

export class DiffBusyError extends Error {}

export async function commitDiff(view: RunnerView, sha: string): Promise<DiffView> {
  const { app, conn } = view;
  const loaded = await loadCommit(app, sha, { kubeVersion: () => conn.discovery.serverVersion() });
  try {
    const base = { ...conn, mask: loaded.mask };
    const previews = await previewCommit({
      ...base,
      plan: planFor(app, loaded, base),
      commit: sha,
      app: app.name,
      source: app.sourceId,
      namespace: app.destination.namespace,
      ignore: app.settings.ignore,
      prune: app.settings.prune,
      adopt: app.settings.adopt,
      recreate: app.settings.recreate,
    });
    return {
      app: app.name,
      commit: commitOfInfo(loaded.snapshot.commit),
      objects: previews.map((p) => ({ ...previewJson(p), diff: yamlDiff(p, false, ['live', 'git']) })),
      changed: previews.filter((p) => differs(p.status)).length,
      computedAt: new Date().toISOString(),
    };
  } catch (e) {
    // API server refusals may quote the commit's Secrets.
    throw maskError(e, loaded.mask);
  }
}

/** Runs one diff at a time; the same diff asked for again meanwhile shares the one under way. */
export class DiffGate {
  private current: { key: string; result: Promise<DiffView> } | undefined;

  run(key: string, compute: () => Promise<DiffView>): Promise<DiffView> {
    if (this.current) {
      if (this.current.key === key) return this.current.result;
      return Promise.reject(new DiffBusyError('another diff is being computed; try again in a moment'));
    }
    const result = compute().finally(() => (this.current = undefined));
    this.current = { key, result };
    return result;
  }
}
