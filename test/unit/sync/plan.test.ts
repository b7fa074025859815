import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../../src/manifests/index.ts';
import { PlanErrors } from '../../../src/sync/errors.ts';
import { labelValue, planApply, planHooks, withoutNulls, type KindLookup } from '../../../src/sync/plan.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const commit = 'a'.repeat(40);

const served: Record<string, { resource: string; namespaced: boolean }> = {
  '/v1/Namespace': { resource: 'namespaces', namespaced: false },
  '/v1/ConfigMap': { resource: 'configmaps', namespaced: true },
  'apps/v1/Deployment': { resource: 'deployments', namespaced: true },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': {
    resource: 'customresourcedefinitions',
    namespaced: false,
  },
  'rbac.authorization.k8s.io/v1/ClusterRole': { resource: 'clusterroles', namespaced: false },
};
const lookup: KindLookup = (g, v, k) => served[`${g}/${v}/${k}`];

const source = 'git.example.com/org/deploy//apps/shop';

function plan(files: Record<string, string>, allowedNamespaces?: string[]) {
  const manifests = loadManifests(
    Object.entries(files).map(([path, text]) => ({ path, content: enc(text) })),
    { commit },
  );
  return planApply({
    manifests,
    lookup,
    defaultNamespace: 'dflt',
    commit,
    app: 'shop',
    source,
    ...(allowedNamespaces ? { allowedNamespaces } : {}),
  });
}

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`;

describe('planApply', () => {
  it('orders definitions, then cluster-scoped, then namespaced objects by wave', () => {
    const p = plan({
      'a.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n',
      'b.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, annotations: {tether.dev/sync-wave: "2"}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: early, annotations: {tether.dev/sync-wave: "-1"}}\n',
      'c.yaml': 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: viewer}\n',
      'd.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n',
      'e.yaml': crd + '---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n',
    });
    expect(p.map((x) => x.manifest.id.name)).toEqual([
      'shop',
      'widgets.example.com',
      'viewer',
      'early',
      'web',
      'w',
      'late',
    ]);
    expect(p.map((x) => x.stage)).toEqual([
      'definitions',
      'definitions',
      'cluster',
      'namespaced',
      'namespaced',
      'namespaced',
      'namespaced',
    ]);
    expect(p.find((x) => x.manifest.id.name === 'w')!.definedByCommit).toBe(true);
  });

  it('defaults the namespace of namespaced objects only, and adds the tether labels', () => {
    const p = plan({
      'a.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {team: x}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: nsx}\n',
    });
    const cm = p.find((x) => x.manifest.id.kind === 'ConfigMap')!;
    const ns = p.find((x) => x.manifest.id.kind === 'Namespace')!;
    expect(cm.namespace).toBe('dflt');
    expect(cm.object.metadata).toEqual({
      name: 'c',
      namespace: 'dflt',
      labels: { team: 'x', 'app.kubernetes.io/managed-by': 'tether', 'tether.dev/app': 'shop' },
      annotations: { 'tether.dev/source': source },
    });
    expect((ns.object.metadata as Record<string, unknown>).namespace).toBeUndefined();
    // The manifest itself is left untouched (its digest describes Git's content).
    expect((cm.manifest.object.metadata as Record<string, unknown>).namespace).toBeUndefined();
  });

  it('reports every unknown kind, misplaced namespace and bad wave together, with file and line', () => {
    let error: unknown;
    try {
      plan({
        'x.yaml': 'apiVersion: example.com/v9\nkind: Gadget\nmetadata: {name: g}\n',
        'y.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata: {name: nsy, namespace: oops}\n',
        'z.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, annotations: {tether.dev/sync-wave: "soon"}}\n',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanErrors);
    const errors = (error as PlanErrors).errors;
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^x\.yaml:1:1: .*does not serve example\.com\/v9 Gadget/);
    expect(errors[1]).toMatch(/^y\.yaml:1:1: .*cluster-scoped/);
    expect(errors[2]).toMatch(/^z\.yaml:1:1: .*sync-wave must be an integer/);
    expect((error as PlanErrors).message).toContain('commit aaaaaaa ');
  });
});

describe('labelValue', () => {
  it('turns free text into a valid label value', () => {
    expect(labelValue('apps/shop')).toBe('apps-shop');
    expect(labelValue('-x-')).toBe('x');
    expect(labelValue('a'.repeat(80))).toHaveLength(63);
    expect(labelValue('///')).toBe('default');
  });
});

describe('planApply with allowedNamespaces', () => {
  it('refuses an object whose namespace, defaulted or named, is outside allowedNamespaces', () => {
    const files = {
      'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
      'b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: ok}\n',
    };
    expect(plan(files, ['ok', 'dflt'])).toHaveLength(2);
    let error: unknown;
    try {
      plan(files, ['ok']);
    } catch (e) {
      error = e;
    }
    expect((error as PlanErrors).errors).toEqual([
      "a.yaml:1:1: v1 ConfigMap c: namespace dflt (the destination, as the object names none) is not in the app's allowedNamespaces (ok)",
    ]);
  });
});

describe('planApply: what only the default namespace reveals, and what the cluster lacks', () => {
  const errorOf = (files: Record<string, string>): PlanErrors => {
    try {
      plan(files);
    } catch (e) {
      if (e instanceof PlanErrors) return e;
      throw e;
    }
    throw new Error('planned without error');
  };

  it('refuses an object defined once with the default namespace named and once through it, naming both places', () => {
    const e = errorOf({
      'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: dflt}\n',
      'b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
      'c.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: other}\n',
    });
    expect(e.errors).toEqual([
      'b.yaml:1:1: v1 ConfigMap dflt/c is defined twice in commit aaaaaaa: here (the default namespace) and at a.yaml:1:1 (its namespace named); keep one of the two definitions',
    ]);
    expect(e.hint).toMatch(/^fix the manifests/);
  });

  it('says a missing CRD is for the cluster (or the repository), and keeps typos of built-in groups with the manifests', () => {
    const missing = errorOf({ 'x.yaml': 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n' });
    expect(missing.constructor.name).toBe('UnservedKindsError');
    expect(missing.errors[0]).toContain(
      'install the CustomResourceDefinition of Gadget (group example.com) in the cluster first, or add it to the repository',
    );
    expect(missing.hint).toMatch(
      /^the cluster does not serve these kinds: install their CustomResourceDefinitions/,
    );
    const typo = errorOf({ 'x.yaml': 'apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: d}\n' });
    expect(typo.constructor.name).toBe('PlanErrors');
    expect(typo.errors[0]).toContain('check apiVersion and kind');
  });
});

describe('withoutNulls', () => {
  it("drops null-valued fields at any depth (Git's `data: null` means nothing) and keeps nulls inside lists", () => {
    expect(
      withoutNulls({
        data: null,
        metadata: { name: 'c', labels: null },
        spec: { args: ['a', null], x: [{ y: null }] },
      }),
    ).toEqual({ metadata: { name: 'c' }, spec: { args: ['a', null], x: [{}] } });
  });

  it('plans a ConfigMap with data: null without data', () => {
    const [cm] = plan({ 'a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: null\n' });
    expect(cm!.object).not.toHaveProperty('data');
  });
});

describe('planHooks', () => {
  const files = {
    'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n',
    'hooks.yaml': `apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: report
  namespace: other
  annotations: {helm.sh/hook: post-install}
---
apiVersion: v1
kind: Pod
metadata:
  name: skipped
  annotations: {helm.sh/hook: test}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: helm-config
  annotations: {helm.sh/hook: pre-install}
`,
  };
  const input = () => ({
    manifests: loadManifests(
      Object.entries(files).map(([path, text]) => ({ path, content: enc(text) })),
      { commit },
    ),
    lookup: (g: string, v: string, k: string) =>
      k === 'Job' ? { resource: 'jobs', namespaced: true } : lookup(g, v, k),
    defaultNamespace: 'dflt',
    commit,
    app: 'shop',
    source,
  });

  it('takes hooks out of the plan (skipped ones too); Helm hooks on other kinds stay objects', () => {
    expect(planApply(input()).map((p) => p.manifest.id.name)).toEqual(['web', 'helm-config']);
  });

  it('carries the hooks beside it: phase, delete policy, namespace defaulted, labelled', () => {
    const hooks = planHooks(input());
    expect(
      hooks.map((h) => [h.manifest.id.name, h.phase, h.deletePolicies, h.namespace, h.generated]),
    ).toEqual([
      ['migrate-', 'pre-sync', ['hook-succeeded'], 'dflt', true],
      ['report', 'post-sync', ['before-hook-creation'], 'other', false],
    ]);
    const meta = hooks[0]!.object.metadata as { namespace: string; labels: Record<string, string> };
    expect(meta.namespace).toBe('dflt');
    expect(meta.labels['tether.dev/app']).toBe('shop');
  });
});
