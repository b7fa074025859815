/**
 * The fieldset model against managedFields written by the real kube-apiserver: list items
 * keyed by name, by containerPort+protocol and by port+protocol, set-like lists, labels with
 * dots and slashes, a scale-subresource owner, and a round trip of every entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FieldSet,
  formatPath,
  ownersOf,
  parseManagedFields,
  parsePath,
  valueAt,
} from '../../src/fieldset/index.ts';
import { createNamespace, kubectl, kubectlJson } from '../support/cluster.ts';
import { deployment, toYaml } from '../support/objects.ts';

/** Two containers, keyed list items of both kinds, a dotted label and a finalizer. */
const web = deployment({
  name: 'web',
  labels: { 'app.kubernetes.io/name': 'web' },
  replicas: 2,
  container: {
    name: 'web',
    ports: [
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' },
    ],
    env: [{ name: 'MODE', value: 'fast' }],
  },
});
web.metadata.finalizers = ['example.com/keep'];
web.spec.template.spec.containers.push({ name: 'sidecar', image: 'busybox' });

describe('managedFields from the real API server', () => {
  let ns: { name: string; cleanup: () => Promise<void> };
  let live: Record<string, unknown>;

  beforeAll(async () => {
    ns = await createNamespace('mf');
    await kubectl(
      ['-n', ns.name, 'apply', '--server-side', '--field-manager=tether', '-f', '-'],
      toYaml(web),
    );
    await kubectl(['-n', ns.name, 'scale', 'deployment', 'web', '--replicas=3']);
    await kubectl(['-n', ns.name, 'label', 'deployment', 'web', 'example.com/team=a']);
    await kubectl(['-n', ns.name, 'set', 'env', 'deployment/web', '-c', 'sidecar', 'DEBUG=1']);
    live = await kubectlJson(['-n', ns.name, 'get', 'deployment', 'web']);
  });

  afterAll(async () => {
    const noFinalizers = '[{"op":"remove","path":"/metadata/finalizers"}]';
    await kubectl(['-n', ns.name, 'patch', 'deployment', 'web', '--type=json', '-p', noFinalizers]);
    await ns.cleanup();
  });

  it('parses every entry and serializes it back to the same fieldsV1', () => {
    const entries = (live.metadata as { managedFields: { fieldsV1: unknown }[] }).managedFields;
    expect(entries.length).toBeGreaterThanOrEqual(4);
    for (const e of entries) expect(FieldSet.fromFieldsV1(e.fieldsV1).toFieldsV1()).toEqual(e.fieldsV1);
  });

  it('renders the applier paths in the contract format, resolvable against the object', () => {
    const tether = parseManagedFields(live).find((m) => m.owner.manager === 'tether')!;
    const paths = tether.set.leaves().map(formatPath);
    expect(paths).toContain('.spec.template.spec.containers[name=web].image');
    expect(paths).toContain(
      '.spec.template.spec.containers[name=web].ports[containerPort=53,protocol=UDP].protocol',
    );
    expect(paths).toContain('.spec.template.spec.containers[name=web].env[name=MODE].value');
    expect(paths).toContain('.metadata.labels["app.kubernetes.io/name"]');
    expect(paths).toContain('.metadata.finalizers[=example.com/keep]');
    for (const p of tether.set.leaves()) expect(valueAt(live, p).found, formatPath(p)).toBe(true);
    expect(
      valueAt(
        live,
        parsePath('.spec.template.spec.containers[name=web].ports[containerPort=53,protocol=UDP].protocol'),
      ).value,
    ).toBe('UDP');
  });

  it('attributes each field to the manager that wrote it, with operation and subresource', () => {
    const managed = parseManagedFields(live);
    expect(ownersOf(parsePath('.spec.replicas'), managed)).toEqual([
      expect.objectContaining({ manager: 'kubectl', operation: 'Update', subresource: 'scale' }),
    ]);
    expect(ownersOf(parsePath('.metadata.labels["example.com/team"]'), managed)).toEqual([
      expect.objectContaining({ manager: 'kubectl-label', operation: 'Update' }),
    ]);
    expect(
      ownersOf(parsePath('.spec.template.spec.containers[name=sidecar].env[name=DEBUG].value'), managed),
    ).toEqual([expect.objectContaining({ manager: 'kubectl-set', operation: 'Update' })]);
    expect(ownersOf(parsePath('.spec.template.spec.containers[name=web].image'), managed)).toEqual([
      expect.objectContaining({ manager: 'tether', operation: 'Apply' }),
    ]);
  });
});
