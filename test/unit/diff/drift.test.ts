import { describe, expect, it } from 'vitest';
import { FieldSet, parsePath } from '../../../src/fieldset/index.ts';
import type { FieldDrift } from '../../../src/diff/index.ts';
import { DriftInputError, classifyFieldDrift, computeDrift } from '../../../src/diff/index.ts';
import { fixture } from '../fieldset/load-fixture.ts';
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';

type Obj = Record<string, unknown>;
/** Edits a fixture in place with JSON Patch operations (paths are RFC 6901 pointers). */
function edit(obj: Obj, ops: Operation[]): void {
  jsonpatch.applyPatch(obj, ops, true, true);
}
const tetherItem = '/metadata/managedFields/0/fieldsV1/f:spec/f:template/f:spec/f:containers';

const pair = (name: string): { desired: Obj; live: Obj } => ({
  desired: fixture(`${name}.dryrun`),
  live: fixture(`${name}.live`),
});

describe('computeDrift on the Deployment fixture', () => {
  it('reports exactly the imperatively changed fields Git sets, with their owners', () => {
    const result = computeDrift(pair('deployment-web'));
    expect(result).toEqual({
      status: 'drifted',
      fields: [
        {
          path: '.spec.replicas',
          desired: 2,
          live: 5,
          owners: [
            { manager: 'kubectl', operation: 'Update', time: '2026-03-02T10:05:12Z', subresource: 'scale' },
          ],
        },
        {
          path: '.spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value',
          desired: 'info',
          live: 'debug',
          owners: [{ manager: 'kubectl-edit', operation: 'Update', time: '2026-03-02T10:12:40Z' }],
        },
      ],
    });
    expect(result.fields.map((f) => classifyFieldDrift(f))).toEqual(['imperative', 'imperative']);
  });

  it('is in sync when only server bookkeeping, status and fields Git does not set differ', () => {
    const { desired } = pair('deployment-web');
    const live = structuredClone(desired);
    edit(live, [
      { op: 'replace', path: '/metadata/resourceVersion', value: '99999' },
      { op: 'replace', path: '/metadata/generation', value: 9 },
      { op: 'replace', path: '/metadata/managedFields', value: [] },
      { op: 'replace', path: '/metadata/labels/team', value: 'other' },
      {
        op: 'add',
        path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration',
        value: '{}',
      },
      { op: 'replace', path: '/status/replicas', value: 0 },
      { op: 'replace', path: '/spec/strategy/rollingUpdate/maxSurge', value: 1 },
      { op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'Always' },
    ]);
    expect(computeDrift({ desired, live })).toEqual({ status: 'in-sync', fields: [] });
  });

  it('reports missing when there is no live object', () => {
    expect(computeDrift({ desired: fixture('deployment-web.dryrun'), live: undefined })).toEqual({
      status: 'missing',
      fields: [],
    });
  });

  it('reports a container missing from the live object once, at the item, with the whole item', () => {
    const { desired, live } = pair('deployment-web');
    const sidecar = { name: 'proxy', image: 'envoy:1.33', terminationMessagePolicy: 'File' };
    edit(desired, [
      { op: 'add', path: '/spec/template/spec/containers/-', value: sidecar },
      {
        op: 'add',
        path: `${tetherItem}/k:{"name":"proxy"}`,
        value: { '.': {}, 'f:image': {}, 'f:name': {} },
      },
    ]);
    const drift = computeDrift({ desired, live });
    const proxy = drift.fields.filter((f) => f.path.includes('proxy'));
    expect(proxy).toEqual([
      { path: '.spec.template.spec.containers[name=proxy]', desired: sidecar, live: null, owners: [] },
    ]);
  });

  it('reports a field Git sets that the live object lacks as live null', () => {
    const { desired, live } = pair('deployment-web');
    // A write that removes a field also removes it from every manager's set.
    edit(live, [
      { op: 'remove', path: '/spec/template/spec/containers/0/resources/requests/memory' },
      { op: 'remove', path: `${tetherItem}/k:{"name":"web"}/f:resources/f:requests/f:memory` },
    ]);
    const f = computeDrift({ desired, live }).fields.find((x) => x.path.endsWith('.memory'));
    expect(f).toEqual({
      path: '.spec.template.spec.containers[name=web].resources.requests.memory',
      desired: '64Mi',
      live: null,
      owners: [],
    });
    expect(classifyFieldDrift(f as FieldDrift)).toBe('unowned');
  });

  it('reads the desired field set of the given manager and refuses a result without one', () => {
    const { desired, live } = pair('deployment-web');
    edit(desired, [{ op: 'replace', path: '/metadata/managedFields/0/manager', value: 'tether-ci' }]);
    expect(() => computeDrift({ desired, live })).toThrow(DriftInputError);
    expect(() => computeDrift({ desired, live })).toThrow('no managedFields entry for manager "tether"');
    expect(computeDrift({ desired, live, desiredManager: 'tether-ci' }).fields).toHaveLength(2);
  });

  it('takes an explicit field set, and never compares server fields even if asked to', () => {
    const { desired, live } = pair('deployment-web');
    const desiredFields = FieldSet.fromPaths(
      ['.spec.replicas', '.metadata.resourceVersion', '.metadata.generation', '.status.replicas'].map(
        parsePath,
      ),
    );
    edit(desired, [{ op: 'replace', path: '/metadata/resourceVersion', value: '1' }]);
    expect(computeDrift({ desired, live, desiredFields }).fields.map((f) => f.path)).toEqual([
      '.spec.replicas',
    ]);
  });

  it('reports "git" drift when the live value is still the desired manager\'s own earlier apply', () => {
    const { desired, live } = pair('deployment-web');
    edit(desired, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.28.0' }]);
    const f = computeDrift({ desired, live }).fields.find((x) => x.path.endsWith('.image'));
    expect(f?.owners.map((o) => o.manager)).toEqual(['tether']);
    expect(classifyFieldDrift(f as FieldDrift)).toBe('git');
  });
});

describe('computeDrift on the Service fixture', () => {
  it('reports the conflicting applier, the patched port and the removed finalizer', () => {
    const result = computeDrift(pair('service-web'));
    expect(result.status).toBe('drifted');
    expect(result.fields).toEqual([
      {
        path: '.metadata.annotations["policy.example.com/tier"]',
        desired: 'silver',
        live: 'gold',
        owners: [{ manager: 'platform-policy', operation: 'Apply', time: '2026-03-02T10:20:00Z' }],
      },
      {
        path: '.metadata.finalizers[=example.com/protect]',
        desired: 'example.com/protect',
        live: null,
        owners: [],
      },
      {
        path: '.spec.ports[port=9090,protocol=TCP].targetPort',
        desired: 9090,
        live: 9091,
        owners: [{ manager: 'kubectl-patch', operation: 'Update', time: '2026-03-02T10:14:02Z' }],
      },
    ]);
    expect(result.fields.map((f) => classifyFieldDrift(f))).toEqual(['conflict', 'unowned', 'imperative']);
  });

  it('applies ignore rules by path, pointer, manager, kind and name', () => {
    const paths = (ignore: Parameters<typeof computeDrift>[0]['ignore']): string[] =>
      computeDrift({ ...pair('service-web'), ignore }).fields.map((f) => f.path);
    const all = paths(undefined);
    expect(all).toHaveLength(3);
    expect(paths([{ paths: ['.metadata.annotations'] }])).toEqual(all.slice(1));
    expect(paths([{ paths: ['.spec.ports[port=9090]'] }])).toEqual(all.slice(0, 2));
    expect(paths([{ paths: ['/spec/ports/1/targetPort'] }])).toEqual(all.slice(0, 2));
    expect(paths([{ paths: ['/spec/ports/0'] }])).toEqual(all);
    expect(paths([{ paths: ['/metadata/annotations/policy.example.com~1tier'] }])).toEqual(all.slice(1));
    expect(paths([{ managers: ['platform-policy', 'kubectl-patch'] }])).toEqual([all[1]]);
    expect(paths([{ managers: ['kubectl-patch'], paths: ['.metadata'] }])).toEqual(all);
    expect(paths([{ kinds: ['Service'], names: ['shop/web'] }])).toEqual([]);
    expect(paths([{ kinds: ['/Service'] }])).toEqual([]);
    expect(paths([{ kinds: ['Deployment'] }])).toEqual(all);
    expect(paths([{ kinds: ['Service'], names: ['api'] }])).toEqual(all);
  });
});

describe('computeDrift on the Secret fixture', () => {
  it('compares real values and reports them masked', () => {
    const result = computeDrift(pair('secret-db'));
    expect(result).toEqual({
      status: 'drifted',
      fields: [
        {
          path: '.data.password',
          desired: '***',
          live: '***',
          owners: [{ manager: 'kubectl-edit', operation: 'Update', time: '2026-03-02T10:16:45Z' }],
        },
      ],
    });
    const text = JSON.stringify(result);
    for (const secret of ['aHVudGVyMg==', 'czNjcjN0LXB3', 'YXBw', 'a2V5LTEyMzQ1'])
      expect(text).not.toContain(secret);
  });

  it('compares stringData that the server moved to data, and masks a missing side as null', () => {
    const { desired, live } = pair('secret-db');
    edit(live, [
      { op: 'replace', path: '/data/api-key', value: 'Y2hhbmdlZA==' },
      { op: 'remove', path: '/data/username' },
    ]);
    const result = computeDrift({ desired, live });
    expect(result.fields.map(({ path, desired: d, live: l }) => ({ path, d, l }))).toEqual([
      { path: '.data.password', d: '***', l: '***' },
      { path: '.data.username', d: '***', l: null },
      { path: '.stringData.api-key', d: '***', l: '***' },
    ]);
    expect(JSON.stringify(result)).not.toContain('Y2hhbmdlZA==');
  });

  it('does not report equal Secret values', () => {
    const { desired } = pair('secret-db');
    expect(computeDrift({ desired, live: structuredClone(desired) }).status).toBe('in-sync');
  });
});
