/**
 * The App CRD (charts/tether/crds/apps.tether.dev.yaml) against the config file's app schema
 * (src/config/schema.ts): every config key is in the App's spec, spelled as the table below
 * says when it differs, with the same type, choices and default, so a key added to the config
 * cannot be forgotten in the CRD (nor one invented in the CRD alone). Also: the file reads the
 * same as YAML 1.1 (kubectl) and 1.2, its schema is structural, its patterns accept what the
 * config accepts, and install-crds names its outcome as kubectl does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { APP_CRD_NAME, CRD_DIR, applyOutcome, bundledCrds } from '../../../src/cluster/crds.ts';
import type { KubeObject } from '../../../src/cluster/apply.ts';
import { parseDuration } from '../../../src/config/duration.ts';
import { isDnsLabel } from '../../../src/config/names.ts';
import { appSchema } from '../../../src/config/schema.ts';

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  additionalProperties?: unknown;
  required?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

/**
 * Config keys the App spells differently, and why; null: not in the App at all. Every other
 * config key must be in the App's spec at the same path.
 */
const DIFFERENCES: Record<string, string | null> = {
  // metadata.name is the app name (checked below).
  name: null,
  // Switches of the whole App, at the top of its spec.
  'sync.prune': 'prune',
  'sync.suspend': 'suspend',
  // Files the agent reads are Secrets of the App's namespace in the App.
  'source.usernameFile': 'source.secretRef',
  'source.passwordFile': 'source.secretRef',
  'source.caFile': 'source.secretRef',
  'source.sshKeyFile': 'source.secretRef',
  'source.knownHostsFile': 'source.secretRef',
  'source.verify.pgpKeysFile': 'source.verify.secretRef',
  'source.verify.sshKeysFile': 'source.verify.secretRef',
  'notifications[].tokenFile': 'notifications[].secretRef',
  'notifications[].secretFile': 'notifications[].secretRef',
  'notifications[].urlFile': 'notifications[].secretRef',
  // An App targets the cluster it lives in.
  'destination.kubeconfig': null,
  'destination.context': null,
};

/** Keys only the App has. */
const APP_ONLY = [
  'serviceAccountName',
  'source.secretRef.name',
  'source.verify.secretRef.name',
  'notifications[].secretRef.name',
  'notifications[].secretRef.key',
];

/** Config defaults the App leaves to the agent, which knows what the schema cannot. */
const DEFAULTS_LEFT_TO_THE_AGENT = [
  // The App's own namespace.
  'destination.namespace',
  // Per notifier type (github: api.github.com, gitlab: gitlab.com).
  'notifications[].apiUrl',
];

/** Every key path of a JSON schema (`a.b`, `list[].c`), with each schema found there. */
function keyPaths(root: SchemaNode): Map<string, SchemaNode[]> {
  const out = new Map<string, SchemaNode[]>();
  const visit = (node: SchemaNode, at: string) => {
    for (const variant of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) visit(variant, at);
    if (node.items) visit(node.items, `${at}[]`);
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = at ? `${at}.${key}` : key;
      out.set(path, [...(out.get(path) ?? []), child]);
      visit(child, path);
    }
  };
  visit(root, '');
  return out;
}

/** The choices a key allows: its enum, or the consts of a discriminated union's variants. */
function choices(nodes: SchemaNode[]): string[] | undefined {
  const values = nodes.flatMap((n) => n.enum ?? (n.const !== undefined ? [n.const] : []));
  return values.length ? [...new Set(values.map(String))].sort() : undefined;
}

const crdText = readFileSync(join(CRD_DIR, 'apps.tether.dev.yaml'), 'utf8');
const crd = parse(crdText, { version: '1.1' }) as {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: unknown };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
};
const version = crd.spec.versions[0]!;
const root = version.schema.openAPIV3Schema;
const spec = root.properties!.spec!;
const appKeys = keyPaths(spec);
const configKeys = keyPaths(z.toJSONSchema(appSchema, { io: 'input' }) as SchemaNode);

describe("the App CRD's spec mirrors the config file's app", () => {
  it('has every config key, at its path or as the table of differences says', () => {
    const missing = [...configKeys.keys()].filter((path) => {
      const target = path in DIFFERENCES ? DIFFERENCES[path] : path;
      return target !== null && target !== undefined && !appKeys.has(target);
    });
    expect(missing, 'config keys missing from the CRD: add them, or to DIFFERENCES with the reason').toEqual(
      [],
    );
  });

  it('has no key that the config does not have, but those listed', () => {
    const renamedTo = new Set(Object.values(DIFFERENCES).filter((t): t is string => t !== null));
    const extra = [...appKeys.keys()].filter(
      (path) =>
        !APP_ONLY.includes(path) &&
        !renamedTo.has(path) &&
        !(configKeys.has(path) && DIFFERENCES[path] === undefined),
    );
    expect(extra, 'keys only in the CRD: add them to the config, or to APP_ONLY').toEqual([]);
    // Nothing listed that no longer exists.
    for (const path of APP_ONLY) expect(appKeys.has(path), path).toBe(true);
    for (const path of Object.keys(DIFFERENCES)) expect(configKeys.has(path), path).toBe(true);
  });

  it('gives each shared key the same type, choices and default', () => {
    const mapped = (path: string) => (path in DIFFERENCES ? DIFFERENCES[path] : path);
    for (const [path, configNodes] of configKeys) {
      const target = mapped(path);
      if (!target || target !== path) continue;
      const appNodes = appKeys.get(path)!;
      const types = (nodes: SchemaNode[]) => [...new Set(nodes.map((n) => n.type ?? n.anyOf?.[0]?.type))];
      expect(types(appNodes), `type of ${path}`).toEqual(types(configNodes));
      expect(choices(appNodes), `choices of ${path}`).toEqual(choices(configNodes));
      const configDefault = configNodes.find((n) => n.default !== undefined)?.default;
      const scalar = configDefault !== undefined && typeof configDefault !== 'object';
      if (scalar && !DEFAULTS_LEFT_TO_THE_AGENT.includes(path))
        expect(appNodes[0]!.default, `default of ${path}`).toEqual(configDefault);
    }
    // The switches moved to the top keep their defaults.
    expect(spec.properties!.prune!.default).toBe(false);
    expect(spec.properties!.suspend!.default).toBe(false);
  });

  it('takes the app name from metadata.name: a DNS label', () => {
    const name = root.properties!.metadata!.properties!.name!;
    const re = new RegExp(name.pattern!);
    for (const sample of ['shop', 'a', 'shop-2', 'Shop', 'shop.v2', '-shop', 'shop-', 'a'.repeat(63)])
      expect(re.test(sample), sample).toBe(isDnsLabel(sample));
    expect(name).toMatchObject({ type: 'string', maxLength: 63 });
  });

  it('accepts the durations, URLs and names the config accepts', () => {
    const durations = ['500ms', '30s', '1m30s', '1.5h', '2h', '30', '1d', '', '1m 30s', '-1s', '1us', 's'];
    for (const field of [
      spec.properties!.source!.properties!.interval!,
      spec.properties!.sync!.properties!.waveTimeout!,
    ]) {
      const re = new RegExp(field.pattern!);
      for (const d of durations) {
        let ok = true;
        try {
          parseDuration(d);
        } catch {
          ok = false;
        }
        expect(re.test(d), d).toBe(ok);
      }
    }
    const note = spec.properties!.notifications!.items!.properties!;
    const configUrl = /^https?:\/\/[^\s/]+/i;
    for (const key of ['apiUrl', 'targetUrl', 'url']) {
      const re = new RegExp(note[key]!.pattern!);
      for (const u of ['https://h', 'HTTP://h/x', 'http://', 'ftp://h', 'https:// h', 'h'])
        expect(re.test(u), `${key} ${u}`).toBe(configUrl.test(u));
    }
    expect(note.repository!.pattern).toBe('^[\\w.-]+/[\\w.-]+$');
    const namespace = new RegExp(spec.properties!.destination!.properties!.namespace!.pattern!);
    for (const ns of ['shop', 'team-a', 'Team', 'a.b', '-a'])
      expect(namespace.test(ns), ns).toBe(isDnsLabel(ns));
  });
});

describe('the App CRD file', () => {
  it('reads the same as YAML 1.1 (kubectl) and 1.2', () => {
    expect(parse(crdText, { version: '1.1' })).toEqual(parse(crdText, { version: '1.2' }));
  });

  it('is the one CRD install-crds applies: apps.tether.dev, namespaced, v1alpha1 with a status subresource', () => {
    const files = bundledCrds();
    expect(files.map((f) => f.crds.map((c) => c.metadata.name))).toEqual([[APP_CRD_NAME]]);
    expect(files[0]!.text).toBe(crdText);
    expect(crd.spec).toMatchObject({
      group: 'tether.dev',
      scope: 'Namespaced',
      names: { kind: 'App', plural: 'apps' },
    });
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([['v1alpha1', true, true]]);
    expect(version.subresources).toEqual({ status: {} });
    expect(
      version.additionalPrinterColumns.map(
        (c) => `${c.name}${c.priority ? `(${c.priority})` : ''} ${c.jsonPath}`,
      ),
    ).toEqual([
      'Ready .status.conditions[?(@.type=="Ready")].status',
      'Status .status.state',
      'Commit .status.commit',
      'Health .status.health',
      'Age .metadata.creationTimestamp',
      'Message(1) .status.conditions[?(@.type=="Ready")].message',
    ]);
  });

  it('is structural: every object lists its properties or keeps unknown fields, none forbids them', () => {
    const loose: string[] = [];
    const visit = (node: SchemaNode, at: string) => {
      expect(node.additionalProperties, `${at}: additionalProperties is not allowed beside properties`).toBe(
        undefined,
      );
      if (node.type === 'object' && !node.properties && !node['x-kubernetes-preserve-unknown-fields'])
        loose.push(at);
      if (node.items) visit(node.items, `${at}[]`);
      for (const [k, v] of Object.entries(node.properties ?? {})) visit(v, `${at}.${k}`);
    };
    visit(root, '');
    // Only helmValues is free-form; metadata is the API server's.
    expect(loose).toEqual([]);
    expect(spec.properties!.render!.properties!.helmValues).toMatchObject({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    });
  });

  it('has the status the agent writes, with kstatus conditions keyed by type', () => {
    const status = root.properties!.status!;
    expect(Object.keys(status.properties!).sort()).toEqual(
      [
        'observedGeneration',
        'conditions',
        'state',
        'health',
        'commit',
        'lastAppliedCommit',
        'lastSeenCommit',
        'driftedObjects',
        'lastError',
        'lastReconcileAt',
        'lastHandledReconcileAt',
        'mode',
      ].sort(),
    );
    const conditions = status.properties!.conditions! as SchemaNode & Record<string, unknown>;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect(conditions.items!.required).toEqual(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
  });
});

describe('applyOutcome: what install-crds prints', () => {
  const object = (spec: unknown, managedFields: unknown[] = []): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: APP_CRD_NAME, resourceVersion: '1', managedFields },
    spec,
  });
  const owner = (time: string) => ({
    manager: 'tether',
    operation: 'Apply',
    time,
    fieldsV1: { 'f:spec': {} },
  });

  it('created, unchanged or configured, as kubectl says', () => {
    expect(applyOutcome(undefined, object({ a: 1 }))).toBe('created');
    expect(applyOutcome(object({ a: 1 }, [owner('t1')]), object({ a: 1 }, [owner('t2')]))).toBe('unchanged');
    expect(applyOutcome(object({ a: 1 }), object({ a: 2 }))).toBe('configured');
    // Taking over fields from another manager changes the object too.
    expect(applyOutcome(object({ a: 1 }, []), object({ a: 1 }, [owner('t1')]))).toBe('configured');
  });
});
