/**
 * First apply of N objects into fresh namespaces, three ways, each on its own namespaces:
 * `tether sync` (from a local clone of the generated repository), `kubectl apply
 * --server-side -R -f`, and a raw concurrent server-side-apply PATCH loop (the API server's
 * own limit on this machine).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Repo } from '../test/support/git-server.ts';
import type { Kube } from './lib.ts';
import { log, must, tetherSync } from './lib.ts';
import { asFiles, generate, writeSet, type ManifestSet } from './manifests.ts';

export interface ApplyFigures {
  objects: number;
  namespaces: number;
  tetherSyncMs: number;
  tetherSyncSummary: Record<string, number>;
  /** Set when tether sync failed (its last error line); the comparisons still run. */
  tetherSyncError?: string;
  kubectlApplyServerSideMs: number;
  rawPatchLoopMs: number;
  rawPatchConcurrency: number;
}

/** Server-side apply of every object with `concurrency` requests in flight. */
export async function patchLoop(kube: Kube, set: ManifestSet, concurrency: number): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= set.objects.length) return;
      const o = set.objects[i]!;
      const r = await kube.req(
        'PATCH',
        `${o.path}?fieldManager=bench&force=true`,
        o.yaml,
        'application/apply-patch+yaml',
      );
      if (r.status >= 300) throw new Error(`PATCH ${o.path}: ${r.status} ${r.body.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - start;
}

export async function measureApply(opts: {
  kube: Kube;
  n: number;
  id: string;
  /** The repository the tether run applies (and the agent later tracks). */
  repo: Repo;
  created: string[];
  concurrency?: number;
  /** Skip the kubectl and raw-loop comparisons (only tether sync, to set up the other scenarios). */
  tetherOnly?: boolean;
}): Promise<{ figures: ApplyFigures; tetherSet: ManifestSet; sha: string; app: string }> {
  const { kube, n, id, repo } = opts;
  const concurrency = opts.concurrency ?? 32;
  const work = mkdtempSync(join(tmpdir(), 'tether-bench-apply-'));

  // tether sync
  const tetherSet = generate(n, `bt${id}-${n}`);
  const sha = repo.commit(asFiles(tetherSet), `bench: ${n} objects`);
  await kube.createNamespaces(tetherSet.namespaces);
  opts.created.push(...tetherSet.namespaces);
  const app = `bench-${n}`;
  log(`first apply, ${n} objects: tether sync`);
  const t = await tetherSync({
    repo: repo.bare,
    app,
    kubeconfig: kube.state.kubeconfig,
    auditLog: join(work, 'audit.jsonl'),
    extra: ['-o', 'json'],
  });
  const summary: Record<string, number> = {};
  let tetherSyncError: string | undefined;
  if (t.code !== 0) {
    tetherSyncError = `exit ${t.code}: ${
      t.err
        .trim()
        .split('\n')
        .find((l) => l.startsWith('error')) ?? t.err.slice(-500)
    }`;
    log(`tether sync failed: ${tetherSyncError}`);
  }
  try {
    const parsed = JSON.parse(t.out) as { objects?: { status?: string; action?: string }[] };
    for (const o of parsed.objects ?? []) {
      const s = o.status ?? o.action ?? '?';
      summary[s] = (summary[s] ?? 0) + 1;
    }
  } catch {
    summary['unparsed-output'] = 1;
  }

  if (opts.tetherOnly)
    return {
      figures: {
        objects: n,
        namespaces: tetherSet.namespaces.length,
        tetherSyncMs: t.ms,
        tetherSyncSummary: summary,
        ...(tetherSyncError ? { tetherSyncError } : {}),
        kubectlApplyServerSideMs: NaN,
        rawPatchLoopMs: NaN,
        rawPatchConcurrency: concurrency,
      },
      tetherSet,
      sha,
      app,
    };

  // kubectl apply --server-side
  log(`first apply, ${n} objects: kubectl apply --server-side`);
  const kSet = generate(n, `bk${id}-${n}`);
  const kDir = writeSet(kSet, join(work, 'kubectl'));
  await kube.createNamespaces(kSet.namespaces);
  const k = await must(
    kube.kubectl(['apply', '--server-side', '-R', '-f', kDir]),
    'kubectl apply --server-side',
  );
  await kube.deleteNamespaces(kSet.namespaces);

  // raw concurrent PATCH loop
  log(`first apply, ${n} objects: raw PATCH loop x${concurrency}`);
  const rSet = generate(n, `br${id}-${n}`);
  await kube.createNamespaces(rSet.namespaces);
  const rawMs = await patchLoop(kube, rSet, concurrency);
  await kube.deleteNamespaces(rSet.namespaces);

  return {
    figures: {
      objects: n,
      namespaces: tetherSet.namespaces.length,
      tetherSyncMs: t.ms,
      tetherSyncSummary: summary,
      ...(tetherSyncError ? { tetherSyncError } : {}),
      kubectlApplyServerSideMs: k.ms,
      rawPatchLoopMs: rawMs,
      rawPatchConcurrency: concurrency,
    },
    tetherSet,
    sha,
    app,
  };
}
