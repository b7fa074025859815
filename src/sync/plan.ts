/**
 * Planning, pure: decide each object's scope and namespace, group objects into the stages
 * they must be applied in (definitions first, so that what depends on them can be
 * validated), and order them deterministically. Unknown kinds are errors here, before any
 * request that writes.
 */
import {
  APP_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SOURCE_ANNOTATION,
  SYNC_WAVE_ANNOTATION,
} from '../contract.ts';
import { digestOf, formatId, objectKey, type Manifest } from '../manifests/index.ts';
import { isRecord } from '../util/object.ts';
import { shortSha } from '../util/sha.ts';
import { PlanErrors, type PlanProblem } from './errors.ts';
import { formatLocation } from '../manifests/index.ts';
import { hookOf, isHookKind, type DeletePolicy, type HookPhase, type HookSpec } from './hooks.ts';

export interface KindInfo {
  resource: string;
  namespaced: boolean;
}

/** Looks a kind up in discovery; undefined when the cluster does not serve it. */
export type KindLookup = (group: string, version: string, kind: string) => KindInfo | undefined;

export type Stage = 'definitions' | 'apps' | 'cluster' | 'namespaced';

export interface PlannedObject {
  manifest: Manifest;
  /** The object exactly as it is sent: namespace defaulted, Tether's labels added. */
  object: Record<string, unknown>;
  /** sha256 of `object` (keys the dry-run cache). */
  digest: string;
  namespace: string;
  namespaced: boolean;
  stage: Stage;
  wave: number;
  /** Set when the kind is served only once a CRD of this same commit is established. */
  definedByCommit: boolean;
}

/** A sync hook of the commit: created in its phase, never part of the plan or the inventory. */
export interface PlannedHook {
  manifest: Manifest;
  /** The object as it is created: namespace defaulted, Tether's labels added. */
  object: Record<string, unknown>;
  namespace: string;
  phase: HookPhase;
  deletePolicies: DeletePolicy[];
  /** tether.dev/sync-wave: a sync hook runs after the app's objects of its wave. */
  wave: number;
  /** Named by the server from metadata.generateName (manifest.id.name is the prefix). */
  generated: boolean;
}

/**
 * The object's role as a hook: a hook, skipped (Argo CD's Skip, Helm's test and delete
 * hooks), or undefined (an object of the app). Helm's hook annotation on a kind other than a
 * Job or Pod leaves it an object of the app (validation refuses Tether's and Argo CD's).
 */
export function hookRole(m: Manifest): HookSpec | undefined {
  const spec = hookOf(m.object);
  if (!spec || spec.kind === 'skip') return spec;
  return isHookKind(m.id.group, m.id.kind) ? spec : undefined;
}

// Tether's own Apps right after the CRDs (app-of-apps): child apps start while the parent's other objects apply.
const STAGE_ORDER: Record<Stage, number> = { definitions: 0, apps: 1, cluster: 2, namespaced: 3 };

function isTetherApp(m: Manifest): boolean {
  return m.id.group === 'tether.dev' && m.id.kind === 'App';
}

function isDefinition(m: Manifest): boolean {
  const { group, kind } = m.id;
  return (
    (group === '' && kind === 'Namespace') ||
    (group === 'apiextensions.k8s.io' && kind === 'CustomResourceDefinition')
  );
}

/** Kinds that CRDs of this commit will define: `group/version/kind` -> namespaced. */
function kindsFromCrds(manifests: Manifest[]): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const m of manifests) {
    if (m.id.group !== 'apiextensions.k8s.io' || m.id.kind !== 'CustomResourceDefinition') continue;
    const spec = (m.object.spec ?? {}) as {
      group?: string;
      scope?: string;
      names?: { kind?: string };
      versions?: { name?: string; served?: boolean }[];
    };
    for (const v of spec.versions ?? []) {
      if (!spec.group || !spec.names?.kind || !v.name || v.served === false) continue;
      out.set(`${spec.group}/${v.name}/${spec.names.kind}`, spec.scope !== 'Cluster');
    }
  }
  return out;
}

function waveOf(m: Manifest): number | string {
  const annotations = (m.object.metadata as { annotations?: Record<string, unknown> }).annotations;
  const raw = annotations?.[SYNC_WAVE_ANNOTATION];
  if (raw === undefined) return 0;
  const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  return Number.isSafeInteger(n)
    ? n
    : `${SYNC_WAVE_ANNOTATION} must be an integer in quotes, got ${JSON.stringify(raw)}`;
}

/**
 * The object without its null-valued fields. Git's `data: null` (what templates render for an
 * empty value) means "nothing": the server stores nothing for it. Sent as is, a null still
 * claims the field's ownership, so every sync would rewrite managedFields alone, a write that
 * drift (comparing values) never sees. Nulls inside lists are kept.
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v: unknown) => (isRecord(v) ? withoutNulls(v) : v));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out;
}

function withTetherLabels(
  object: Record<string, unknown>,
  namespace: string | undefined,
  app: string,
  source: string,
) {
  const metadata = { ...(object.metadata as Record<string, unknown>) };
  if (namespace !== undefined) metadata.namespace = namespace;
  metadata.labels = {
    ...(metadata.labels as Record<string, string> | undefined),
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [APP_LABEL]: app,
  };
  metadata.annotations = {
    ...(metadata.annotations as Record<string, string> | undefined),
    [SOURCE_ANNOTATION]: source,
  };
  return { ...object, metadata };
}

export interface PlanInput {
  manifests: Manifest[];
  lookup: KindLookup;
  defaultNamespace: string;
  commit: string;
  app: string;
  /** The app's source identity, recorded on every object (see source/identity.ts). */
  source: string;
  /** When set, every object's namespace, defaulted ones included, must be one of these. */
  allowedNamespaces?: readonly string[];
}

/** The commit's sync hooks, in file order; hook annotations Tether cannot read are errors. */
export function planHooks(input: PlanInput): PlannedHook[] {
  const { manifests, defaultNamespace, commit, app, source, allowedNamespaces } = input;
  const errors: PlanProblem[] = [];
  const hooks: PlannedHook[] = [];
  for (const m of manifests) {
    const spec = hookRole(m);
    if (!spec || spec.kind === 'skip') continue;
    const where = formatLocation(m.source);
    if (spec.kind === 'invalid') {
      errors.push({ message: `${where}: ${formatId(m.id)}: ${spec.message}` });
      continue;
    }
    const wave = waveOf(m);
    if (typeof wave === 'string') {
      errors.push({ message: `${where}: ${formatId(m.id)}: ${wave}` });
      continue;
    }
    const namespace = m.id.namespace || defaultNamespace;
    if (allowedNamespaces && !allowedNamespaces.includes(namespace)) {
      errors.push({
        message: `${where}: ${formatId(m.id)}: namespace ${namespace} is not in the app's allowedNamespaces (${allowedNamespaces.join(', ')})`,
      });
      continue;
    }
    const metadata = m.object.metadata as Record<string, unknown>;
    hooks.push({
      manifest: m,
      object: withTetherLabels(withoutNulls(m.object) as Record<string, unknown>, namespace, app, source),
      namespace,
      phase: spec.phase,
      deletePolicies: spec.deletePolicies,
      wave,
      generated: typeof metadata.name !== 'string' || metadata.name === '',
    });
  }
  if (errors.length > 0) throw PlanErrors.of(errors, commit);
  return hooks;
}

export function planApply(input: PlanInput): PlannedObject[] {
  const { lookup, defaultNamespace, commit, app, source, allowedNamespaces } = input;
  // Hooks (and skipped hooks) are never objects of the app: no drift, diff, prune or inventory.
  const manifests = input.manifests.filter((m) => hookRole(m) === undefined);
  const fromCrds = kindsFromCrds(manifests);
  const errors: PlanProblem[] = [];
  const planned: PlannedObject[] = [];
  /** Where each object, by its identity once the namespace is defaulted, was first defined. */
  const seen = new Map<string, Manifest>();
  for (const m of manifests) {
    const where = formatLocation(m.source);
    const { group, version, kind } = m.id;
    const known = lookup(group, version, kind);
    const crdScope = fromCrds.get(`${group}/${version}/${kind}`);
    if (!known && crdScope === undefined) {
      // A group with a dot outside *.k8s.io is a custom resource's: its CRD is missing.
      const custom = group.includes('.') && !group.endsWith('.k8s.io');
      errors.push({
        message:
          `${where}: ${formatId(m.id)}: the cluster does not serve ${group ? `${group}/` : ''}${version} ${kind}; ` +
          (custom
            ? `install the CustomResourceDefinition of ${kind} (group ${group}) in the cluster first, or add it to the repository`
            : 'check apiVersion and kind, or add the CustomResourceDefinition that defines it'),
        unserved: custom,
      });
      continue;
    }
    const namespaced = known ? known.namespaced : crdScope!;
    if (!namespaced && m.id.namespace !== '') {
      errors.push({
        message: `${where}: ${formatId(m.id)}: ${kind} is cluster-scoped; remove metadata.namespace`,
      });
      continue;
    }
    const wave = waveOf(m);
    if (typeof wave === 'string') {
      errors.push({ message: `${where}: ${formatId(m.id)}: ${wave}` });
      continue;
    }
    const namespace = namespaced ? m.id.namespace || defaultNamespace : '';
    if (namespaced && allowedNamespaces && !allowedNamespaces.includes(namespace)) {
      errors.push({
        message: `${where}: ${formatId(m.id)}: namespace ${namespace}${m.id.namespace ? '' : ' (the destination, as the object names none)'} is not in the app's allowedNamespaces (${allowedNamespaces.join(', ')})`,
      });
      continue;
    }
    const resolved = { ...m.id, namespace };
    const first = seen.get(objectKey(resolved));
    if (first) {
      errors.push({ message: duplicate(m, first, formatId(resolved), commit) });
      continue;
    }
    seen.set(objectKey(resolved), m);
    const object = withTetherLabels(
      withoutNulls(m.object) as Record<string, unknown>,
      namespaced ? namespace : undefined,
      app,
      source,
    );
    planned.push({
      manifest: m,
      object,
      digest: digestOf(object),
      namespace,
      namespaced,
      stage: isDefinition(m)
        ? 'definitions'
        : isTetherApp(m)
          ? 'apps'
          : namespaced
            ? 'namespaced'
            : 'cluster',
      wave,
      definedByCommit: !known,
    });
  }
  if (errors.length > 0) throw PlanErrors.of(errors, commit);
  return planned.sort(
    (a, b) =>
      STAGE_ORDER[a.stage] - STAGE_ORDER[b.stage] ||
      a.wave - b.wave ||
      a.manifest.source.file.localeCompare(b.manifest.source.file) ||
      a.manifest.source.line - b.manifest.source.line,
  );
}

/**
 * The same object twice once the namespace is defaulted (loading catches identical
 * identities; one naming the default namespace and one naming none meet only here).
 */
function duplicate(m: Manifest, first: Manifest, id: string, commit: string): string {
  const via = (x: Manifest) => (x.id.namespace ? 'its namespace named' : 'the default namespace');
  return (
    `${formatLocation(m.source)}: ${id} is defined twice in commit ${shortSha(commit)}: here (${via(m)}) and at ` +
    `${formatLocation(first.source)} (${via(first)}); keep one of the two definitions`
  );
}

/** A valid label value derived from free text (app names come from paths and repo URLs). */
export function labelValue(text: string): string {
  const v = text
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, 63)
    .replace(/[^A-Za-z0-9]+$/, '');
  return v || 'default';
}
