import { describe, expect, it } from 'vitest';
import { CONFIG_HASH_ANNOTATION, loadManifests } from '../../../src/manifests/index.ts';
import type { Manifest } from '../../../src/manifests/index.ts';
import { configMap, deployment, secret, toYaml } from '../../support/objects.ts';
import { COMMIT, file } from './helpers.ts';

/** The Deployment under test: its pod spec refers to config in every way a pod can. */
const deploymentYaml = ({ annotate = true, namespace = 'shop' } = {}) =>
  toYaml(
    deployment({
      name: 'web',
      namespace: namespace || undefined,
      annotations: annotate ? { [CONFIG_HASH_ANNOTATION]: 'true' } : undefined,
      container: {
        name: 'app',
        image: 'app',
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'env-config', key: 'a' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'b' } } },
        ],
        envFrom: [{ secretRef: { name: 'envfrom-secret' } }],
      },
      podSpec: {
        imagePullSecrets: [{ name: 'pull' }],
        volumes: [
          { name: 'config', configMap: { name: 'app-config' } },
          { name: 'creds', secret: { secretName: 'app-secret' } },
          {
            name: 'projected',
            projected: {
              sources: [
                { configMap: { name: 'projected-config' } },
                { secret: { name: 'projected-secret' } },
              ],
            },
          },
        ],
        initContainers: [
          { name: 'init', image: 'busybox', envFrom: [{ configMapRef: { name: 'init-env' } }] },
        ],
        ephemeralContainers: [
          { name: 'debug', image: 'busybox', envFrom: [{ configMapRef: { name: 'debug-env' } }] },
        ],
      },
    }),
  );

const cronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: shop
  annotations: {${CONFIG_HASH_ANNOTATION}: "true"}
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: job
              envFrom: [{configMapRef: {name: app-config}}]
`;

/** A ConfigMap or Secret with `data: {k: <value>}`, in namespace shop unless told ('' for none). */
const config = (
  kind: 'ConfigMap' | 'Secret',
  name: string,
  value: string,
  more: {
    namespace?: string;
    labels?: Record<string, string>;
    stringData?: Record<string, string>;
    binaryData?: Record<string, string>;
  } = {},
) => {
  const opts = {
    name,
    namespace: (more.namespace ?? 'shop') || undefined,
    labels: more.labels,
    data: { k: value },
  };
  return toYaml(
    kind === 'Secret'
      ? secret({ ...opts, stringData: more.stringData })
      : configMap({ ...opts, binaryData: more.binaryData }),
  );
};

const REFERENCED: [kind: 'ConfigMap' | 'Secret', name: string][] = [
  ['ConfigMap', 'app-config'],
  ['ConfigMap', 'projected-config'],
  ['ConfigMap', 'init-env'],
  ['ConfigMap', 'env-config'],
  ['ConfigMap', 'debug-env'],
  ['Secret', 'app-secret'],
  ['Secret', 'projected-secret'],
  ['Secret', 'env-secret'],
  ['Secret', 'envfrom-secret'],
  ['Secret', 'pull'],
];

function load(configDocs: string[], workloads = [deploymentYaml(), cronJob]): Manifest[] {
  return loadManifests(
    [file('workloads.yaml', workloads.join('---\n')), file('config.yaml', configDocs.join('---\n'))],
    { commit: COMMIT },
  );
}

function hashOf(manifests: Manifest[], kind = 'Deployment'): string | undefined {
  const m = manifests.find((x) => x.id.kind === kind);
  type Template = { metadata?: { annotations?: Record<string, string> } };
  const spec = m?.object['spec'] as { template?: Template; jobTemplate?: { spec: { template: Template } } };
  const template = kind === 'CronJob' ? spec.jobTemplate?.spec.template : spec.template;
  return template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

const baseline = REFERENCED.map(([kind, name]) => config(kind, name, 'v1'));

describe('config-hash injection', () => {
  it('writes a sha256 hex into the pod template of annotated workloads only', () => {
    const hash = hashOf(load(baseline));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf(load(baseline, [deploymentYaml({ annotate: false })]))).toBeUndefined();
    expect(hashOf(load(baseline), 'CronJob')).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(REFERENCED)('changes when the data of referenced %s %s changes', (kind, name) => {
    const before = hashOf(load(baseline));
    const changed = REFERENCED.map(([k, n]) => config(k, n, k === kind && n === name ? 'v2' : 'v1'));
    expect(hashOf(load(changed))).not.toBe(before);
  });

  it('does not change for an unrelated ConfigMap, a label change, or a different namespace', () => {
    const before = hashOf(load(baseline));
    expect(hashOf(load([...baseline, config('ConfigMap', 'unrelated', 'zzz')]))).toBe(before);
    const relabeled = REFERENCED.map(([kind, name]) =>
      config(kind, name, 'v1', { labels: { new: 'label' } }),
    );
    expect(hashOf(load(relabeled))).toBe(before);
    expect(
      hashOf(load([...baseline, config('ConfigMap', 'app-config', 'other-ns', { namespace: 'prod' })])),
    ).toBe(before);
    // And the order of the documents does not matter.
    expect(hashOf(load([...baseline].reverse()))).toBe(before);
  });

  it('counts stringData and binaryData', () => {
    const before = hashOf(load(baseline));
    const withStringData = REFERENCED.map(([kind, name]) =>
      config(kind, name, 'v1', name === 'app-secret' ? { stringData: { s: 'x' } } : {}),
    );
    expect(hashOf(load(withStringData))).not.toBe(before);
    const withBinary = REFERENCED.map(([kind, name]) =>
      config(kind, name, 'v1', name === 'app-config' ? { binaryData: { b: 'AA==' } } : {}),
    );
    expect(hashOf(load(withBinary))).not.toBe(before);
  });

  it('skips references to config outside the commit', () => {
    const none = hashOf(load([]));
    expect(none).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf(load([config('ConfigMap', 'app-config', 'v1')]))).not.toBe(none);
  });

  it("matches '' namespaces with '' only", () => {
    const noNs = { namespace: '' };
    const workloads = [deploymentYaml(noNs)];
    const before = hashOf(load([config('ConfigMap', 'app-config', 'v1', noNs)], workloads));
    expect(hashOf(load([config('ConfigMap', 'app-config', 'v2', noNs)], workloads))).not.toBe(before);
    expect(hashOf(load([config('ConfigMap', 'app-config', 'v2')], workloads))).toBe(
      hashOf(load([], workloads)),
    );
  });

  it('is part of the digest of the workload', () => {
    const a = load(baseline).find((m) => m.id.kind === 'Deployment');
    const b = load(REFERENCED.map(([kind, name]) => config(kind, name, 'v9'))).find(
      (m) => m.id.kind === 'Deployment',
    );
    expect(a?.digest).not.toBe(b?.digest);
  });
});
