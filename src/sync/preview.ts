/**
 * What applying a commit would do, without writing (`tether diff`): per object create, update,
 * unchanged, delete (prune) or orphan, with the changed fields and who owns them today, the
 * before/after objects (normalised, Secrets masked) and an RFC 6902 patch.
 */
import { ApiStatusError } from '../cluster/errors.ts';
import { readInventory } from '../cluster/inventory.ts';
import {
  jsonPatch,
  maskSecretPair,
  normalizeForDiff,
  type FieldDrift,
  type IgnoreRule,
  type Operation,
} from '../diff/index.ts';
import { formatId, type ObjectId, type SourceLocation } from '../manifests/index.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import type { Connection } from './pipeline.ts';
import { applyPolicy, evaluate } from './evaluate.ts';
import { ApplyErrors, missingNamespaces, resolvedId } from './execute.ts';
import { APP_LABEL, type PlannedObject } from './plan.ts';
import { pruneCandidates } from './prune.ts';

export type PreviewAction = 'create' | 'update' | 'unchanged' | 'delete' | 'orphan';

export interface Preview {
  id: ObjectId;
  source?: SourceLocation;
  action: PreviewAction;
  fields: FieldDrift[];
  conflicts: FieldDrift[];
  before?: unknown;
  after?: unknown;
  patch: Operation[];
  message?: string;
}

export interface PreviewInput extends Connection {
  plan: PlannedObject[];
  commit: string;
  app: string;
  namespace: string;
  ignore: IgnoreRule[];
  prune: boolean;
  concurrency?: number;
}

function shown(before: unknown, after: unknown): { before: unknown; after: unknown; patch: Operation[] } {
  const b = before === undefined ? undefined : normalizeForDiff(before);
  const a = after === undefined ? undefined : normalizeForDiff(after);
  const [mb, ma] = maskSecretPair(b, a);
  return { before: mb, after: ma, patch: jsonPatch(b, a) };
}

export async function previewCommit(input: PreviewInput): Promise<Preview[]> {
  const missingNs = await missingNamespaces(input, input.plan);
  const errors: string[] = [];
  const previews = await mapConcurrent(
    input.plan,
    input.concurrency ?? 8,
    async (p): Promise<Preview | undefined> => {
      const base = { id: resolvedId(p), source: p.manifest.source, fields: [], conflicts: [] };
      if (applyPolicy(p) === 'ignore')
        return { ...base, action: 'unchanged', patch: [], message: 'tether.dev/apply: ignore' };
      const { group, version, kind, name } = p.manifest.id;
      const info = await input.discovery.lookup(group, version, kind);
      // Its CRD or namespace comes with this commit: the server cannot dry-run it yet.
      if (!info || (p.namespaced && missingNs.has(p.namespace)))
        return { ...base, action: 'create', ...shown(undefined, p.object) };
      try {
        const live = await input.live.get(info, p.namespace, name);
        if (live && applyPolicy(p) === 'create-only')
          return { ...base, action: 'unchanged', patch: [], message: 'create-only' };
        const e = await evaluate(input.client, info, p, live, input.ignore);
        if (!live) return { ...base, action: 'create', ...shown(undefined, e.dryRun) };
        if (e.same) return { ...base, action: 'unchanged', patch: [] };
        const s = shown(live, e.dryRun);
        // Only managedFields moved (Tether taking over ownership): nothing a reviewer sees changes.
        if (s.patch.length === 0) return { ...base, action: 'unchanged', patch: [] };
        return { ...base, action: 'update', fields: e.drift, conflicts: e.conflicts, ...s };
      } catch (err) {
        if (!(err instanceof ApiStatusError)) throw err;
        const s = p.manifest.source;
        errors.push(
          `${s.file}:${s.line}:${s.column}: ${formatId(base.id)}: ${err.message.replace(/^[A-Z]+ \S+: /, '')}`,
        );
        return undefined;
      }
    },
    (done, total) => input.onProgress?.('dry-run', done, total),
  );
  if (errors.length > 0) throw new ApplyErrors(errors.sort(), input.commit, false);
  const out = previews.filter((p): p is Preview => p !== undefined);
  const inventory = await readInventory(input, input.app, input.namespace);
  for (const id of pruneCandidates(inventory?.entries ?? [], input.plan.map(resolvedId))) {
    const info = await input.discovery.lookup(id.group, id.version, id.kind);
    const live = info ? await input.live.get(info, id.namespace, id.name) : undefined;
    if (!live || ((live.metadata.labels ?? {}) as Record<string, string>)[APP_LABEL] !== input.app) continue;
    out.push({
      id,
      action: input.prune ? 'delete' : 'orphan',
      fields: [],
      conflicts: [],
      ...shown(live, undefined),
      ...(input.prune ? {} : { message: 'no longer in Git; kept because prune is off' }),
    });
  }
  return out;
}
