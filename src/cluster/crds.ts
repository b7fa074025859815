/**
 * Tether's CustomResourceDefinitions (apps.tether.dev), shipped once, in the chart's crds/
 * directory: helm installs them from there, and `tether install-crds` reads the same files from
 * the package (src/ and dist/ are both two levels below its root; package.json "files" and the
 * Dockerfile carry charts/tether/crds/), server-side applies them and waits until each is
 * Established.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TetherError } from '../errors.ts';
import { deepEqual } from '../fieldset/index.ts';
import { applyObject, type KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { ResourceInfo } from './discovery.ts';
import { ApiStatusError } from './errors.ts';
import { getObject } from './get.ts';
import { waitForCrdEstablished } from './wait.ts';

/** The chart's crds/ directory in this installation. */
export const CRD_DIR = join(import.meta.dirname, '..', '..', 'charts', 'tether', 'crds');

/** The App resource's CRD: group tether.dev, kind App. */
export const APP_CRD_NAME = 'apps.tether.dev';

export const CRD_RESOURCE: ResourceInfo = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  resource: 'customresourcedefinitions',
  namespaced: false,
  verbs: ['get', 'patch'],
};

export interface CrdFile {
  /** Absolute path of the file. */
  file: string;
  /** The file as written, for `install-crds --print`. */
  text: string;
  /** Its CustomResourceDefinitions. */
  crds: KubeObject[];
}

/**
 * Every CRD file of the directory (*.yaml, by name), read as kubectl reads YAML (1.1). A
 * missing directory means a broken installation, not a user error.
 */
export function bundledCrds(dir: string = CRD_DIR): CrdFile[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.yaml'))
      .sort();
  } catch (e) {
    throw new TetherError(`this installation has no CRD files at ${dir}: ${(e as Error).message}`, {
      hint: 'reinstall tether (the package ships charts/tether/crds/), or apply the CRD from the chart: kubectl apply -f charts/tether/crds/',
    });
  }
  if (names.length === 0)
    throw new TetherError(`this installation has no CRD files in ${dir}`, {
      hint: 'reinstall tether (the package ships charts/tether/crds/)',
    });
  return names.map((name) => {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    const crds = parseAllDocuments(text, { version: '1.1' }).flatMap((doc) => {
      if (doc.errors.length > 0)
        throw new TetherError(`${file}: ${doc.errors[0]!.message}`, { hint: 'reinstall tether' });
      const o = doc.toJS() as KubeObject | null;
      return o === null ? [] : [o];
    });
    return { file, text, crds };
  });
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/**
 * What kubectl prints for an apply: created when the object did not exist, unchanged when the
 * API server's answer holds what it held before (its labels, annotations, spec and field
 * owners), else configured. Compared by content rather than by resourceVersion, which a
 * dry-run never changes.
 */
export function applyOutcome(before: KubeObject | undefined, after: KubeObject): ApplyOutcome {
  if (!before) return 'created';
  const content = (o: KubeObject) => {
    const meta = o.metadata as {
      labels?: unknown;
      annotations?: unknown;
      managedFields?: Record<string, unknown>[];
    };
    return {
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
      // The time of an entry changes on every write, even one that changes nothing else.
      owners: (meta.managedFields ?? []).map((m) => ({ ...m, time: undefined })),
      spec: o['spec'],
    };
  };
  return deepEqual(content(before), content(after)) ? 'unchanged' : 'configured';
}

export interface InstallOptions {
  dryRun?: boolean;
  /** How long to wait for the Established condition. */
  timeoutMs: number;
}

/**
 * Server-side applies one CRD (field manager `tether`, forced: the file is the truth) and,
 * unless dry-run, waits until the API server serves its resources. Refusals come back as
 * errors that say what to check.
 */
export async function installCrd(
  client: KubeClient,
  crd: KubeObject,
  options: InstallOptions,
): Promise<ApplyOutcome> {
  const name = crd.metadata.name;
  try {
    const before = await getObject(client, CRD_RESOURCE, '', name);
    const after = await applyObject(client, CRD_RESOURCE, crd, {
      force: true,
      ...(options.dryRun ? { dryRun: true } : {}),
    });
    if (!options.dryRun) await waitForCrdEstablished(client, name, options.timeoutMs);
    return applyOutcome(before, after);
  } catch (e) {
    throw explainRefusal(e, name);
  }
}

/** A refusal by the API server, told with what to check; other errors as they are. */
function explainRefusal(e: unknown, name: string): unknown {
  if (!(e instanceof ApiStatusError)) return e;
  const what = `cannot install customresourcedefinition ${name}`;
  if (e.status === 403)
    return new TetherError(`${what}: ${e.detail}`, {
      hint: 'installing a CRD takes a cluster admin (get, create and patch on customresourcedefinitions.apiextensions.k8s.io, which are cluster-wide): check with kubectl auth can-i patch customresourcedefinitions, or have an admin run tether install-crds (or tether install-crds --print | kubectl apply -f -)',
    });
  if (e.status === 422 || e.status === 400)
    return new TetherError(`${what}: the API server refused it: ${e.detail}`, {
      hint: 'the CRD needs Kubernetes 1.28 or newer (CEL validation rules with fieldPath and reason); check the server with tether version',
    });
  return new TetherError(`${what}: ${e.detail}`, e.hint ? { hint: e.hint } : {});
}
