/**
 * Executes an apply plan against the cluster. Every object that can be validated now is
 * dry-run before the first write; objects that need this commit's Namespaces or CRDs are
 * dry-run right after those definitions are applied, and before anything else is written.
 * Objects whose dry-run result equals the live object are not patched.
 */
import { isDeepStrictEqual } from 'node:util';
import { formatId, type ObjectId, type SourceLocation } from '../manifests/index.ts';
import { TetherError } from '../errors.ts';
import { applyObject, type KubeObject } from '../cluster/apply.ts';
import type { KubeClient } from '../cluster/client.ts';
import type { Discovery, ResourceInfo } from '../cluster/discovery.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import { getObject } from '../cluster/get.ts';
import { waitForCrdEstablished } from '../cluster/wait.ts';
import { mapConcurrent } from '../util/concurrency.ts';
import { namespacesCreatedBy, type PlannedObject } from './plan.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ObjectResult {
  id: ObjectId;
  source: SourceLocation;
  action: ApplyAction;
}

export class ApplyErrors extends TetherError {
  readonly errors: string[];
  constructor(errors: string[], commit: string, written: boolean) {
    super(
      `commit ${commit.slice(0, 12)} was rejected by the API server:\n` + errors.map((e) => `  ${e}`).join('\n'),
      {
        hint: written
          ? "fix the manifests and push a new commit; only this commit's Namespaces and CRDs were applied, nothing else was written"
          : 'fix the manifests and push a new commit; nothing was written',
      },
    );
    this.errors = errors;
  }
}

interface Checked {
  planned: PlannedObject;
  info: ResourceInfo;
  live: KubeObject | undefined;
  dryRun: KubeObject;
}

export interface ExecuteInput {
  client: KubeClient;
  discovery: Discovery;
  plan: PlannedObject[];
  commit: string;
  concurrency?: number;
}

function where(p: PlannedObject): string {
  const s = p.manifest.source;
  return `${s.file}:${s.line}:${s.column}`;
}

function resolvedId(p: PlannedObject): ObjectId {
  return { ...p.manifest.id, namespace: p.namespace };
}

/** The live object and the dry-run result differ only in resourceVersion when nothing would change. */
function unchanged(live: KubeObject | undefined, dryRun: KubeObject): boolean {
  if (!live) return false;
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return isDeepStrictEqual(strip(live), strip(dryRun));
}

async function check(input: ExecuteInput, items: PlannedObject[], written: boolean): Promise<Checked[]> {
  const errors: string[] = [];
  const checked = await mapConcurrent(items, input.concurrency ?? 8, async (p) => {
    const id = p.manifest.id;
    const info = await input.discovery.lookup(id.group, id.version, id.kind);
    if (!info) {
      errors.push(`${where(p)}: ${formatId(id)}: the cluster does not serve this kind`);
      return undefined;
    }
    try {
      const live = await getObject(input.client, info, p.namespace, id.name);
      const dryRun = await applyObject(input.client, info, p.object, { dryRun: true, force: true });
      return { planned: p, info, live, dryRun };
    } catch (e) {
      if (!(e instanceof ApiStatusError)) throw e;
      errors.push(`${where(p)}: ${formatId(resolvedId(p))}: ${e.message.replace(/^[A-Z]+ \S+: /, '')}`);
      return undefined;
    }
  });
  if (errors.length > 0) {
    throw new ApplyErrors(errors.sort(), input.commit, written);
  }
  return checked.filter((c): c is Checked => c !== undefined);
}

async function write(input: ExecuteInput, items: Checked[]): Promise<ObjectResult[]> {
  const results: ObjectResult[] = [];
  // Waves run one after the other; objects within a wave run concurrently.
  const waves = [...new Set(items.map((c) => `${c.planned.stage}/${c.planned.wave}`))];
  for (const wave of waves) {
    const batch = items.filter((c) => `${c.planned.stage}/${c.planned.wave}` === wave);
    const done = await mapConcurrent(batch, input.concurrency ?? 8, async (c): Promise<ObjectResult> => {
      const base = { id: resolvedId(c.planned), source: c.planned.manifest.source };
      if (unchanged(c.live, c.dryRun)) return { ...base, action: 'unchanged' };
      await applyObject(input.client, c.info, c.planned.object, { force: true });
      return { ...base, action: c.live ? 'configured' : 'created' };
    });
    results.push(...done);
  }
  return results;
}

async function namespaceExists(client: KubeClient, discovery: Discovery, name: string): Promise<boolean> {
  const info = await discovery.lookup('', 'v1', 'Namespace');
  return info ? (await getObject(client, info, '', name)) !== undefined : false;
}

export async function executeApply(input: ExecuteInput): Promise<ObjectResult[]> {
  const { plan, client, discovery } = input;
  const created = namespacesCreatedBy(plan);
  const missing = new Set<string>();
  for (const ns of created) if (!(await namespaceExists(client, discovery, ns))) missing.add(ns);
  const deferred = (p: PlannedObject) => p.definedByCommit || (p.namespaced && missing.has(p.namespace));

  const now = await check(input, plan.filter((p) => !deferred(p)), false);
  const definitions = now.filter((c) => c.planned.stage === 'definitions');
  const results = await write(input, definitions);
  for (const c of definitions) {
    if (c.planned.manifest.id.kind === 'CustomResourceDefinition') {
      await waitForCrdEstablished(client, c.planned.manifest.id.name);
    }
  }
  if (definitions.some((c) => c.planned.manifest.id.kind === 'CustomResourceDefinition')) await discovery.refresh();

  const later = await check(input, plan.filter(deferred), results.some((r) => r.action !== 'unchanged'));
  const rest = [...now.filter((c) => c.planned.stage !== 'definitions'), ...later];
  const order = new Map(plan.map((p, i) => [p, i]));
  rest.sort((a, b) => order.get(a.planned)! - order.get(b.planned)!);
  results.push(...(await write(input, rest)));
  return results;
}
