// Polling a source for new commits: one ref request per poll, a fetch only when the commit
// changed. A move that is not a fast-forward is reported, never taken for routine:
//  - 'deleted': the ref is gone (the last commit seen is returned as `sha`);
//  - 'tag-moved': a tag now names another commit (tags are expected to be immutable);
//  - 'force-push': the branch's new commit does not descend from the previous one.
// The cache is shallow, so "descends" is decided within a window: the incremental fetch
// brings up to `historyWindow` commits below the new tip (the server stops early at the
// previous tip, which it knows we have). A fast-forward by more commits than the window is
// reported as 'force-push': a false alarm is safe, a missed rewrite would not be.
import { currentGeneration } from './cache.ts';
import { isRemote } from './credentials.ts';
import { ensureCommit } from './fetch.ts';
import { descendsFrom } from './git-calls.ts';
import { findGitdir, lookupLocal } from './local.ts';
import { localRefFor, remoteContext, type RemoteContext } from './remote.ts';
import type { ResolvedRef } from './resolve.ts';
import { lookupRemoteRevision, revisionNotFound } from './rev-resolve.ts';
import { checkSpec, describeSource } from './snapshot.ts';
import { closeStore, hasObject, openStore, type ObjectStore } from './store.ts';
import type { PollResult, Rewrite, SourceSpec } from './types.ts';

export const DEFAULT_HISTORY_WINDOW = 200;

export interface PollerOptions {
  /** Commits of history fetched to tell a fast-forward from a rewrite (default 200). */
  historyWindow?: number;
  /** The commit a previous run applied, so the first poll can detect a rewrite too. */
  lastSha?: string;
}

export class GitPoller {
  readonly spec: SourceSpec;
  private readonly window: number;
  private readonly remote: RemoteContext | undefined;
  private last: ResolvedRef | undefined;
  private pinned: ResolvedRef | undefined;

  constructor(spec: SourceSpec, options: PollerOptions = {}) {
    checkSpec(spec);
    this.spec = spec;
    this.window = options.historyWindow ?? DEFAULT_HISTORY_WINDOW;
    this.remote = isRemote(spec.repo) ? remoteContext(spec) : undefined;
    if (options.lastSha) this.last = { sha: options.lastSha, ref: spec.ref ?? 'HEAD', kind: 'other' };
  }

  /** The commit seen by the last poll. */
  get sha(): string | undefined {
    return this.last?.sha;
  }

  describe(): string {
    return describeSource(this.spec);
  }

  async poll(): Promise<PollResult> {
    const ctx = this.remote;
    const local = ctx ? undefined : openStore(await findGitdir(this.spec.repo));
    const now =
      this.pinned ??
      (ctx ? await lookupRemoteRevision(ctx, this.spec.ref) : await lookupLocal(local!, this.spec.ref));
    if (local) closeStore(local);
    // HEAD~1 or a short sha names a commit once: it stays pinned, as a full sha does, and
    // does not move with the branch it was counted from.
    if (now?.kind === 'commit') this.pinned = now;
    const last = this.last;
    if (!now) {
      if (!last) throw revisionNotFound(this.spec.ref, ctx ? ctx.target.url : this.spec.repo);
      return { sha: last.sha, changed: true, rewrite: 'deleted', previous: last.sha };
    }
    if (last && now.sha === last.sha) {
      this.last = now;
      return { sha: now.sha, changed: false, previous: last.sha };
    }

    let rewrite: Rewrite | undefined;
    const classify = async (store: ObjectStore): Promise<void> => {
      if (!last) return;
      if (now.kind === 'tag' || last.kind === 'tag') rewrite = 'tag-moved';
      // History missing below the window counts as not descending: a false alarm is safe.
      else if (!(await descendsFrom(store, now.sha, last.sha))) rewrite = 'force-push';
    };
    if (ctx) {
      const store = await this.cacheStore(ctx);
      const haveLast = last !== undefined && store !== undefined && (await hasObject(store, last.sha));
      if (store) closeStore(store);
      const fetched = await ensureCommit(ctx, now.sha, localRefFor(now), {
        depth: haveLast ? this.window : 1,
        afterFetch: classify,
      });
      closeStore(fetched);
    } else {
      await classify(local!);
    }
    this.last = now;
    return {
      sha: now.sha,
      changed: true,
      ...(rewrite ? { rewrite } : {}),
      ...(last ? { previous: last.sha } : {}),
    };
  }

  private async cacheStore(ctx: RemoteContext): Promise<ObjectStore | undefined> {
    const gen = await currentGeneration(ctx.cacheDir);
    return gen ? openStore(gen) : undefined;
  }
}
