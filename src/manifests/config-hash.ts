import { CONFIG_HASH_ANNOTATION } from '../contract.ts';
import { isRecord } from '../util/object.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import type { ObjectId } from './types.ts';

export { CONFIG_HASH_ANNOTATION };

interface Item {
  id: ObjectId;
  object: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const asRecord = (v: unknown): Json | undefined => (isRecord(v) ? v : undefined);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asName = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Where each workload kind keeps its pod template. Pods have none and are left alone. */
function podTemplate(id: ObjectId, object: Json): Json | undefined {
  const spec = asRecord(object['spec']);
  const apps = id.group === 'apps' || id.group === 'extensions';
  if (apps && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(id.kind)) {
    return asRecord(spec?.['template']);
  }
  if (id.group === 'batch' && id.kind === 'Job') return asRecord(spec?.['template']);
  if (id.group === 'batch' && id.kind === 'CronJob') {
    return asRecord(asRecord(asRecord(spec?.['jobTemplate'])?.['spec'])?.['template']);
  }
  return undefined;
}

/** Names of the ConfigMaps and Secrets a pod spec references. */
export function configReferences(podSpec: Json): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const add = (set: Set<string>, name: unknown) => {
    const n = asName(name);
    if (n) set.add(n);
  };
  for (const volume of asArray(podSpec['volumes']).map(asRecord)) {
    add(configMaps, asRecord(volume?.['configMap'])?.['name']);
    add(secrets, asRecord(volume?.['secret'])?.['secretName']);
    for (const source of asArray(asRecord(volume?.['projected'])?.['sources']).map(asRecord)) {
      add(configMaps, asRecord(source?.['configMap'])?.['name']);
      add(secrets, asRecord(source?.['secret'])?.['name']);
    }
  }
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const container of asArray(podSpec[field]).map(asRecord)) {
      for (const env of asArray(container?.['env']).map(asRecord)) {
        const from = asRecord(env?.['valueFrom']);
        add(configMaps, asRecord(from?.['configMapKeyRef'])?.['name']);
        add(secrets, asRecord(from?.['secretKeyRef'])?.['name']);
      }
      for (const envFrom of asArray(container?.['envFrom']).map(asRecord)) {
        add(configMaps, asRecord(envFrom?.['configMapRef'])?.['name']);
        add(secrets, asRecord(envFrom?.['secretRef'])?.['name']);
      }
    }
  }
  for (const ref of asArray(podSpec['imagePullSecrets']).map(asRecord)) add(secrets, ref?.['name']);
  return { configMaps, secrets };
}

/**
 * For every workload annotated `tether.dev/config-hash: "true"`, writes into its pod
 * template the hash of the data of the ConfigMaps and Secrets of the same commit and
 * namespace that the template references, so that changing that configuration changes
 * the template and rolls the pods. Only data is hashed (not labels or annotations);
 * references to objects outside the commit are skipped. Namespaces are compared as
 * written: '' (to be defaulted later) matches only ''. Mutates the workloads in place.
 */
export function injectConfigHashes(items: Item[]): void {
  const config = new Map<string, Json>();
  for (const { id, object } of items) {
    if (id.group === '' && (id.kind === 'ConfigMap' || id.kind === 'Secret')) {
      config.set(`${id.kind}\n${id.namespace}\n${id.name}`, object);
    }
  }
  for (const { id, object } of items) {
    if (asRecord(asRecord(object['metadata'])?.['annotations'])?.[CONFIG_HASH_ANNOTATION] !== 'true')
      continue;
    const template = podTemplate(id, object);
    if (!template) continue;
    const refs = configReferences(asRecord(template['spec']) ?? {});
    const inputs: unknown[] = [];
    const collect = (kind: 'ConfigMap' | 'Secret', names: Set<string>) => {
      for (const name of [...names].sort()) {
        const target = config.get(`${kind}\n${id.namespace}\n${name}`);
        if (!target) continue;
        const fields = kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data', 'stringData'];
        inputs.push({ kind, name, ...Object.fromEntries(fields.map((f) => [f, target[f] ?? null])) });
      }
    };
    collect('ConfigMap', refs.configMaps);
    collect('Secret', refs.secrets);
    const hash = sha256Hex(canonicalJson({ v: 1, config: inputs }));
    const metadata = asRecord(template['metadata']) ?? {};
    const annotations = asRecord(metadata['annotations']) ?? {};
    annotations[CONFIG_HASH_ANNOTATION] = hash;
    metadata['annotations'] = annotations;
    template['metadata'] = metadata;
  }
}
