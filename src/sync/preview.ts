/**
 * What applying a commit would do, without writing (`tether diff`): per object create, update,
 * unchanged, delete (prune) or orphan, with the changed fields and who owns them today, the
 * before/after objects (normalised, Secrets masked) and an RFC 6902 patch.
 */
import { readInventory } from '../cluster/inventory.ts';
import { jsonPatch, maskSecretPair, normalizeForDiff, type IgnoreRule } from '../diff/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { isRecord } from '../util/object.ts';
import { RECREATE_ANNOTATION } from '../contract.ts';
import * as classified from './classify.ts';
import { CommitRejectedError } from './errors.ts';
import { findOrphans, keptReason } from './orphans.ts';
import { CREATE_ONLY_REASON, IGNORED_REASON, type ObjectResult, type PreviewStatus } from './outcome.ts';
import type { Connection } from './pipeline.ts';
import type { PlannedObject } from './plan.ts';

export interface PreviewInput extends Connection {
  plan: PlannedObject[];
  commit: string;
  app: string;
  /** The app's source identity (orphans are objects that record it). */
  source: string;
  /** As sync --adopt: objects of other apps would be taken over. */
  adopt?: boolean;
  /** As sync --recreate: objects whose immutable fields change would be deleted and created again. */
  recreate?: boolean;
  namespace: string;
  ignore: IgnoreRule[];
  prune: boolean;
  concurrency?: number;
}

export type Preview = ObjectResult<PreviewStatus>;

function change(before: unknown, after: unknown): NonNullable<Preview['change']> {
  const b = before === undefined ? undefined : normalizeForDiff(before);
  const a = after === undefined ? undefined : normalizeForDiff(after);
  const [mb, ma] = maskSecretPair(b, a);
  return { before: mb, after: ma, patch: jsonPatch(b, a) };
}

/**
 * Git's object laid over the live one: what the recreated object would roughly look like, as
 * no dry-run can say (the server refuses the change). Server defaults stay, so the diff
 * shows Git's changes rather than every defaulted field; lists of objects of equal length
 * are laid over item by item (containers keep their defaults too).
 */
export function overlay(live: unknown, git: unknown): unknown {
  if (isRecord(live) && isRecord(git)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(git)) out[k] = overlay(live[k], v);
    return out;
  }
  if (Array.isArray(live) && Array.isArray(git) && live.length === git.length)
    return git.map((v, i) => overlay(live[i], v));
  return git;
}

/** What diff says of an immutable-field change: `immutable field .spec.selector`. */
function immutableWhat(fields: readonly string[]): string {
  if (fields.length === 0) return 'an immutable field';
  return `immutable field${fields.length > 1 ? 's' : ''} ${fields.join(', ')}`;
}

/** A classification in diff's words; failures are gathered by the caller. */
export function previewOf(p: PlannedObject, c: classified.Classification, recreate = false): Preview {
  const base = { id: classified.resolvedId(p), source: p.manifest.source, fields: [], conflicts: [] };
  switch (c.kind) {
    case 'ignored':
      return { ...base, status: 'unchanged', message: IGNORED_REASON };
    case 'create-only':
      return { ...base, status: 'unchanged', message: CREATE_ONLY_REASON };
    // sync would refuse it: nothing changes, and why is said.
    case 'foreign':
      return { ...base, status: 'unchanged', message: c.error.message };
    // Its CRD or namespace comes with this commit: the server cannot dry-run it yet.
    case 'pending':
      return { ...base, status: 'create', change: change(undefined, p.object) };
    // Every other object is still previewed: the reviewer sees this one would not go through.
    case 'immutable': {
      const what = immutableWhat(c.error.fields);
      return classified.recreateAllowed(p, recreate)
        ? {
            ...base,
            status: 'recreate',
            message: `would be deleted and created again: ${what} changed`,
            change: change(c.live, overlay(c.live, p.object)),
          }
        : {
            ...base,
            status: 'refused',
            message: `would be refused: ${what}; use --recreate or the ${RECREATE_ANNOTATION} annotation`,
            change: change(c.live, overlay(c.live, p.object)),
          };
    }
    case 'failed':
      return { ...base, status: 'unchanged', message: c.error.message, error: c.error };
    case 'evaluated': {
      const e = c.evaluation;
      if (!e.live) return { ...base, status: 'create', change: change(undefined, e.dryRun) };
      if (e.same) return { ...base, status: 'unchanged' };
      const s = change(e.live, e.dryRun);
      // Only managedFields moved (Tether taking over ownership): nothing a reviewer sees changes.
      if (s.patch.length === 0) return { ...base, status: 'unchanged' };
      return { ...base, status: 'update', fields: e.drift, conflicts: e.conflicts, change: s };
    }
  }
}

export async function previewCommit(input: PreviewInput): Promise<Preview[]> {
  const ctx = {
    app: input.app,
    adopt: input.adopt ?? false,
    ignore: input.ignore,
    missingNamespaces: await classified.missingNamespaces(input, input.plan),
  };
  const previews = await mapConcurrent(
    input.plan,
    input.concurrency ?? 8,
    async (p) => previewOf(p, await classified.classify(input, p, ctx), input.recreate),
    (done, total) => input.onProgress?.('dry-run', done, total),
  );
  const errors = previews.flatMap((p) => p.error ?? []);
  if (errors.length > 0) throw CommitRejectedError.of(errors, input.commit, false);
  const inventory = await readInventory(input, input.app, input.namespace);
  for (const orphan of await findOrphans(input, inventory, input.plan, {
    name: input.app,
    source: input.source,
  })) {
    // As sync would: deleted only with prune on and no tether.dev/prune: "false".
    const kept = input.prune ? keptReason(orphan) : 'no longer in Git; kept because prune is off';
    previews.push({
      id: orphan.id,
      status: kept ? 'orphan' : 'delete',
      fields: [],
      conflicts: [],
      change: change(orphan.live, undefined),
      ...(kept ? { message: kept } : {}),
    });
  }
  return previews;
}
