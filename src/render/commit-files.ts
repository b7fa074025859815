/**
 * A commit's files as the renderers see them: the whole tree of the commit (a kustomize
 * overlay reaches `../../bases`, a values file lies beside the chart), read once and
 * materialized once per commit, then shared by every app and every render of that commit.
 * The materialized copy is never written by kustomize or helm; command renderers, which may
 * write, get a copy of their own.
 */
import { rmSync } from 'node:fs';
import type { SourceFile } from '../manifests/types.ts';
import { repoTree, type RepoTree } from './kustomize-refs.ts';
import { materialize, unsafePathReason, type Workspace } from './materialize.ts';

const live = new Set<CommitFiles>();

export class CommitFiles {
  readonly commit: string;
  readonly files: readonly SourceFile[];
  readonly tree: RepoTree;
  private ws: Promise<Workspace> | undefined;
  private root: string | undefined;
  constructor(commit: string, files: readonly SourceFile[]) {
    this.commit = commit;
    this.files = files;
    this.tree = repoTree(files);
  }

  /** The first repository path that cannot be materialized safely, with why. */
  unsafePath(): { path: string; reason: string } | undefined {
    for (const f of this.files) {
      const reason = unsafePathReason(f.path);
      if (reason) return { path: f.path, reason };
    }
    return undefined;
  }

  workspace(): Promise<Workspace> {
    this.ws ??= materialize(this.files, () => false).then((w) => {
      this.root = w.src;
      live.add(this);
      return w;
    });
    this.ws.catch(() => (this.ws = undefined));
    return this.ws;
  }

  /** Removes the materialized copy (synchronously, so it also works at exit). */
  dispose(): void {
    if (this.root) rmSync(this.root.replace(/\/src$/, ''), { recursive: true, force: true });
    live.delete(this);
    this.root = undefined;
    this.ws = undefined;
  }
}

// A few recent commits: the agent's apps on one repository render the same commit, and a
// `diff --base` renders two.
const KEEP = 4;
const cache = new Map<string, CommitFiles>();
let exitHook = false;

/** The cached CommitFiles of (source, commit), loading the files on first use. */
export async function commitFiles(
  source: string,
  commit: string,
  load: () => Promise<readonly SourceFile[]>,
): Promise<CommitFiles> {
  const key = `${source}\0${commit}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const entry = new CommitFiles(commit, await load());
  cache.set(key, entry);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const e of [...live]) e.dispose();
    });
  }
  while (cache.size > KEEP) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, CommitFiles];
    cache.delete(oldestKey);
    // Renders still running on it read files that are already open or finish soon; a
    // grace period keeps them from losing their files mid-run.
    setTimeout(() => oldest.dispose(), 120_000).unref();
  }
  return entry;
}
