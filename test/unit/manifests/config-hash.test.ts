import { describe, expect, it } from 'vitest';
import { CONFIG_HASH_ANNOTATION, loadManifests } from '../../../src/manifests/index.ts';
import type { Manifest } from '../../../src/manifests/index.ts';
import { COMMIT, file } from './helpers.ts';

const podSpec = `
      imagePullSecrets: [{name: pull}]
      volumes:
        - name: config
          configMap: {name: app-config}
        - name: creds
          secret: {secretName: app-secret}
        - name: projected
          projected:
            sources:
              - configMap: {name: projected-config}
              - secret: {name: projected-secret}
      initContainers:
        - name: init
          image: busybox
          envFrom: [{configMapRef: {name: init-env}}]
      containers:
        - name: app
          image: app
          env:
            - name: A
              valueFrom: {configMapKeyRef: {name: env-config, key: a}}
            - name: B
              valueFrom: {secretKeyRef: {name: env-secret, key: b}}
          envFrom: [{secretRef: {name: envfrom-secret}}]
      ephemeralContainers:
        - name: debug
          image: busybox
          envFrom: [{configMapRef: {name: debug-env}}]`;

const deployment = (annotate = true) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
${annotate ? `  annotations: {${CONFIG_HASH_ANNOTATION}: "true"}\n` : ''}spec:
  template:
    metadata:
      labels: {app: web}
    spec:${podSpec}
`;

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

const config = (kind: 'ConfigMap' | 'Secret', name: string, data: string, extra = '', namespace = 'shop') =>
  `apiVersion: v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${extra}data: {k: "${data}"}\n`;

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

function load(configDocs: string[], workloads = [deployment(), cronJob]): Manifest[] {
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
    expect(hashOf(load(baseline, [deployment(false)]))).toBeUndefined();
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
    const relabeled = baseline.map((doc) =>
      doc.replace('  namespace: shop\n', '  namespace: shop\n  labels: {new: label}\n'),
    );
    expect(hashOf(load(relabeled))).toBe(before);
    expect(hashOf(load([...baseline, config('ConfigMap', 'app-config', 'other-ns', '', 'prod')]))).toBe(
      before,
    );
    // And the order of the documents does not matter.
    expect(hashOf(load([...baseline].reverse()))).toBe(before);
  });

  it('counts stringData and binaryData', () => {
    const before = hashOf(load(baseline));
    const withStringData = baseline.map((d) =>
      d.includes('name: app-secret') ? `${d}stringData: {s: x}\n` : d,
    );
    expect(hashOf(load(withStringData))).not.toBe(before);
    const withBinary = baseline.map((d) =>
      d.includes('name: app-config') ? `${d}binaryData: {b: AA==}\n` : d,
    );
    expect(hashOf(load(withBinary))).not.toBe(before);
  });

  it('skips references to config outside the commit', () => {
    const none = hashOf(load([]));
    expect(none).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOf(load([config('ConfigMap', 'app-config', 'v1')]))).not.toBe(none);
  });

  it("matches '' namespaces with '' only", () => {
    const noNs = (doc: string) => doc.replace('  namespace: shop\n', '');
    const workloads = [noNs(deployment())];
    const before = hashOf(load([noNs(config('ConfigMap', 'app-config', 'v1'))], workloads));
    expect(hashOf(load([noNs(config('ConfigMap', 'app-config', 'v2'))], workloads))).not.toBe(before);
    expect(hashOf(load([config('ConfigMap', 'app-config', 'v2')], workloads))).toBe(
      hashOf(load([], workloads)),
    );
  });

  it('is part of the digest of the workload', () => {
    const a = load(baseline).find((m) => m.id.kind === 'Deployment');
    const b = load(baseline.map((d) => d.replace('"v1"', '"v9"'))).find((m) => m.id.kind === 'Deployment');
    expect(a?.digest).not.toBe(b?.digest);
  });
});
