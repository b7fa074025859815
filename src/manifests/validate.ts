import { isRecord } from '../util/object.ts';
import { annotationOf, ARGO_HOOK_ANNOTATION, HOOK_ANNOTATION } from '../contract.ts';
import { hasHookAnnotation, isHookKind } from '../sync/hooks.ts';
import { splitApiVersion } from './identity.ts';
import {
  dns1035Label,
  dns1123Label,
  dns1123Subdomain,
  kindName,
  labelValue,
  pathSegment,
  qualifiedName,
} from './names.ts';
import type { Check } from './names.ts';
import { formatPath } from './path.ts';
import type { PathSegment } from './path.ts';
import type { ObjectId } from './types.ts';

/** A problem with one object, at a path inside it (`key: true` to point at the key itself). */
export interface Problem {
  kind: 'invalid' | 'namespace';
  path: PathSegment[];
  key?: boolean;
  detail: string;
  hint: string;
}

const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const BUILTIN_GROUPS = new Set(['', 'apps', 'batch', 'autoscaling', 'policy']);
const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/**
 * The name rule the API server applies to a kind. Built-in kinds use DNS-1123 subdomains
 * with a few exceptions; for groups Kubernetes does not define (custom resources, aggregated
 * APIs) only the generic rule is certain, so that is all we check: the dry-run catches the rest.
 */
function nameRule(group: string, kind: string): { check: Check; what: string } {
  if (group === '' && kind === 'Namespace') return { check: dns1123Label, what: 'a Namespace name' };
  if (group === '' && kind === 'Service') return { check: dns1035Label, what: 'a Service name' };
  if (group === 'rbac.authorization.k8s.io' && RBAC_KINDS.has(kind))
    return { check: pathSegment, what: `a ${kind} name` };
  if (group === 'certificates.k8s.io' && kind === 'CertificateSigningRequest') {
    return { check: pathSegment, what: 'a CertificateSigningRequest name' };
  }
  if (BUILTIN_GROUPS.has(group) || group.endsWith('.k8s.io'))
    return { check: dns1123Subdomain, what: 'metadata.name' };
  return { check: pathSegment, what: 'metadata.name' };
}

/** Names in messages, cut so a hostile 100 KB name cannot flood a log. */
function short(v: string): string {
  return v.length > 64 ? `${v.slice(0, 60)}...` : v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return `a boolean (${String(v)})`;
  if (typeof v === 'number') return `a number (${String(v)})`;
  return typeof v;
}

/** Records an 'invalid' problem; `key` points at the mapping key rather than its value. */
type Invalid = (path: PathSegment[], detail: string, hint: string, key?: boolean) => void;

/**
 * Checks what Tether itself relies on before anything reaches a cluster: identity fields,
 * metadata syntax, and the app's namespace fence. Returns the identity when it is usable.
 * Problems come in a fixed order (apiVersion, kind, metadata, name, namespace, labels,
 * annotations, data, fence), which orders errors that share a position.
 */
export function validateObject(
  obj: Record<string, unknown>,
  opts: { allowedNamespaces?: readonly string[] | undefined },
): { id: ObjectId | undefined; problems: Problem[] } {
  const problems: Problem[] = [];
  const invalid: Invalid = (path, detail, hint, key = false) => {
    problems.push({ kind: 'invalid', path, key, detail, hint });
  };

  const gv = checkApiVersion(obj['apiVersion'], invalid);
  const kind = checkKind(obj['kind'], invalid);
  const metadata = checkMetadata(obj['metadata'], invalid);
  if (!metadata) return { id: undefined, problems };
  const name = checkName(metadata, gv?.group, kind, invalid, isHook(obj, gv?.group, kind, invalid));
  const namespace = checkNamespace(metadata['namespace'], invalid);
  checkLabels(metadata, invalid);
  checkAnnotations(metadata, invalid);
  if (gv?.group === '' && kind !== undefined) checkDataMaps(obj, kind, invalid);
  if (opts.allowedNamespaces) {
    problems.push(...fenceProblems(opts.allowedNamespaces, gv?.group, kind, name, namespace));
  }

  if (gv === undefined || kind === undefined || name === undefined || problems.length > 0) {
    return { id: undefined, problems };
  }
  return { id: { group: gv.group, version: gv.version, kind, namespace, name }, problems };
}

/** Kubernetes treats a field that is null or empty as not set. */
function isAbsent(v: unknown): v is undefined | null | '' {
  return v === undefined || v === null || v === '';
}

/** A string field of the identity: where it is, how messages name it, the hint when it is not a string. */
interface StringField {
  path: readonly PathSegment[];
  label: string;
  typeHint: string;
}

const API_VERSION: StringField = { path: ['apiVersion'], label: 'apiVersion', typeHint: 'quote it' };
const KIND: StringField = {
  path: ['kind'],
  label: 'kind',
  typeHint: "write the kind's name, e.g. 'ConfigMap'",
};
const NAME: StringField = { path: ['metadata', 'name'], label: 'metadata.name', typeHint: 'quote the name' };
const NAMESPACE: StringField = {
  path: ['metadata', 'namespace'],
  label: 'metadata.namespace',
  typeHint: 'quote the namespace',
};

/** The value when it is a string; otherwise reports its type and returns undefined. */
function stringValue(value: unknown, field: StringField, invalid: Invalid): string | undefined {
  if (typeof value === 'string') return value;
  invalid([...field.path], `${field.label} is ${typeName(value)}, not a string`, field.typeHint);
  return undefined;
}

/** The group and version, when apiVersion is present and well-formed. */
function checkApiVersion(raw: unknown, invalid: Invalid): { group: string; version: string } | undefined {
  if (isAbsent(raw)) {
    invalid([], 'apiVersion is missing', "add apiVersion, e.g. 'v1' or 'apps/v1'");
    return undefined;
  }
  const apiVersion = stringValue(raw, API_VERSION, invalid);
  if (apiVersion === undefined) return undefined;
  const bad = apiVersionProblem(apiVersion);
  if (bad) {
    invalid([...API_VERSION.path], bad, "write e.g. 'apps/v1'");
    return undefined;
  }
  return splitApiVersion(apiVersion);
}

function apiVersionProblem(apiVersion: string): string | undefined {
  const gv = splitApiVersion(apiVersion);
  if (!gv || (apiVersion.includes('/') && gv.group === '')) {
    return `apiVersion "${short(apiVersion)}" is not 'group/version' or 'version'`;
  }
  const groupProblem = gv.group !== '' ? dns1123Subdomain(gv.group) : undefined;
  if (groupProblem) return `the group of apiVersion "${short(apiVersion)}" ${groupProblem}`;
  if (dns1035Label(gv.version)) {
    return `the version of apiVersion "${short(apiVersion)}" is not a valid version (like v1 or v1beta1)`;
  }
  return undefined;
}

function checkKind(raw: unknown, invalid: Invalid): string | undefined {
  if (isAbsent(raw)) {
    invalid([], 'kind is missing', "add kind, e.g. 'ConfigMap'");
    return undefined;
  }
  const kind = stringValue(raw, KIND, invalid);
  if (kind === undefined) return undefined;
  const bad = kindName(kind);
  if (bad) {
    invalid([...KIND.path], `kind "${short(kind)}" ${bad}`, KIND.typeHint);
    return undefined;
  }
  return kind;
}

/** The metadata mapping; without one nothing further is checked. */
function checkMetadata(metadata: unknown, invalid: Invalid): Record<string, unknown> | undefined {
  if (metadata === undefined || metadata === null) {
    invalid([], 'metadata is missing', 'add metadata with at least a name');
    return undefined;
  }
  if (!isRecord(metadata)) {
    invalid(
      ['metadata'],
      `metadata is ${typeName(metadata)}, not a mapping`,
      'make metadata a mapping with at least a name',
    );
    return undefined;
  }
  return metadata;
}

/**
 * The name when it is valid for the kind. Which rule applies depends on group and kind, so a
 * name is checked, and usable, only when both are known.
 */
function checkName(
  metadata: Record<string, unknown>,
  group: string | undefined,
  kind: string | undefined,
  invalid: Invalid,
  hook: boolean,
): string | undefined {
  const raw = metadata['name'];
  if (isAbsent(raw) && hook && typeof metadata['generateName'] === 'string' && metadata['generateName']) {
    // A hook's name comes from the server; its identity in the commit is the prefix.
    return metadata['generateName'];
  }
  if (isAbsent(raw)) {
    missingName(metadata, invalid);
    return undefined;
  }
  const name = stringValue(raw, NAME, invalid);
  if (name === undefined || group === undefined || kind === undefined) return undefined;
  const rule = nameRule(group, kind);
  const bad = rule.check(name);
  if (bad) {
    invalid([...NAME.path], `${rule.what} "${short(name)}" ${bad}`, 'rename the object');
    return undefined;
  }
  return name;
}

/**
 * Whether the object is a sync hook (a Job or Pod with a hook annotation). Tether's and Argo
 * CD's hook annotations on another kind are errors; Helm's are left to the chart's objects.
 */
function isHook(
  obj: Record<string, unknown>,
  group: string | undefined,
  kind: string | undefined,
  invalid: Invalid,
): boolean {
  if (!hasHookAnnotation(obj) || group === undefined || kind === undefined) return false;
  if (isHookKind(group, kind)) return true;
  for (const key of [HOOK_ANNOTATION, ARGO_HOOK_ANNOTATION]) {
    if (annotationOf(obj, key) === undefined) continue;
    invalid(
      ['metadata', 'annotations', key],
      `${key} on a ${kind}: only Jobs and Pods can be sync hooks`,
      `remove the annotation, or run the work as a Job annotated ${key}`,
    );
  }
  return false;
}

function missingName(metadata: Record<string, unknown>, invalid: Invalid): void {
  if (metadata['generateName'] !== undefined) {
    invalid(
      ['metadata', 'generateName'],
      'metadata.generateName without metadata.name: Tether needs a fixed name to track the object (generateName is only allowed for hooks: a Job or Pod annotated tether.dev/hook)',
      'replace generateName with a fixed metadata.name, or make the object a hook (a Job or Pod annotated tether.dev/hook: pre-sync, sync, post-sync or sync-fail)',
    );
  } else {
    invalid(['metadata'], 'metadata.name is missing', 'add metadata.name');
  }
}

/** The namespace, or '' when none is set or it is not valid. */
function checkNamespace(raw: unknown, invalid: Invalid): string {
  if (isAbsent(raw)) return '';
  const namespace = stringValue(raw, NAMESPACE, invalid);
  if (namespace === undefined) return '';
  const bad = dns1123Label(namespace);
  if (bad) {
    invalid(
      [...NAMESPACE.path],
      `metadata.namespace "${short(namespace)}" ${bad}`,
      'use a valid namespace name',
    );
    return '';
  }
  return namespace;
}

function checkLabels(metadata: Record<string, unknown>, invalid: Invalid): void {
  checkStringMap(metadata, 'labels', invalid, (key, value) => {
    const bad = labelValue(value);
    if (bad) {
      invalid(
        ['metadata', 'labels', key],
        `the value of label "${short(key)}" ${bad}`,
        'shorten or change the label value (annotations have no such limits)',
      );
    }
  });
}

function checkAnnotations(metadata: Record<string, unknown>, invalid: Invalid): void {
  let annotationBytes = 0;
  checkStringMap(metadata, 'annotations', invalid, (key, value) => {
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  });
  if (annotationBytes > MAX_ANNOTATIONS_BYTES) {
    invalid(
      ['metadata', 'annotations'],
      `annotations total ${annotationBytes} bytes, more than Kubernetes allows (262144)`,
      'move large data to a ConfigMap',
    );
  }
}

/** Where a core kind keeps string data, and how an error describes a value that is not a string. */
interface DataRule {
  fields: readonly string[];
  wrongValue: (v: unknown) => string;
}

const DATA_RULES = new Map<string, DataRule>([
  ['ConfigMap', { fields: ['data', 'binaryData'], wrongValue: (v) => `is ${typeName(v)}, not a string` }],
  // Types only: the values of a Secret never appear in an error.
  ['Secret', { fields: ['data', 'stringData'], wrongValue: () => 'is not a string' }],
]);

/** For a core-group kind with a DATA_RULES entry: each data field maps keys to strings (or null). */
function checkDataMaps(obj: Record<string, unknown>, kind: string, invalid: Invalid): void {
  const rule = DATA_RULES.get(kind);
  if (!rule) return;
  for (const field of rule.fields) {
    const map = obj[field];
    if (map === undefined || map === null) continue;
    if (!isRecord(map)) {
      invalid(
        [field],
        `${field} is ${typeName(map)}, not a mapping`,
        `make ${field} a mapping of keys to strings`,
      );
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string' && value !== null) {
        invalid(
          [field, key],
          `${kind} ${field} "${short(key)}" ${rule.wrongValue(value)}`,
          'quote the value',
        );
      }
    }
  }
}

/** The app's namespace fence: the object's namespace, and a Namespace object itself. */
function fenceProblems(
  allowed: readonly string[],
  group: string | undefined,
  kind: string | undefined,
  name: string | undefined,
  namespace: string,
): Problem[] {
  const problems: Problem[] = [];
  const listed = allowed.join(', ') || 'none';
  if (namespace !== '' && !allowed.includes(namespace)) {
    problems.push({
      kind: 'namespace',
      path: ['metadata', 'namespace'],
      detail: `namespace "${namespace}" is not one this app may write to (allowed: ${listed})`,
      hint: 'use an allowed namespace, or add it to destination.allowedNamespaces in the Tether config',
    });
  }
  if (group === '' && kind === 'Namespace' && name !== undefined && !allowed.includes(name)) {
    problems.push({
      kind: 'namespace',
      path: ['metadata', 'name'],
      detail: `Namespace "${name}" is not one this app may manage (allowed: ${listed})`,
      hint: 'remove the Namespace, or add it to destination.allowedNamespaces in the Tether config',
    });
  }
  return problems;
}

function checkStringMap(
  metadata: Record<string, unknown>,
  field: 'labels' | 'annotations',
  invalid: Invalid,
  onEntry: (key: string, value: string) => void,
): void {
  const map = metadata[field];
  if (map === undefined || map === null) return;
  if (!isRecord(map)) {
    invalid(
      ['metadata', field],
      `metadata.${field} is ${typeName(map)}, not a mapping`,
      `make ${field} a mapping of keys to strings`,
    );
    return;
  }
  const singular = field === 'labels' ? 'label' : 'annotation';
  for (const [key, value] of Object.entries(map)) {
    const bad = qualifiedName(key);
    if (bad) {
      invalid(
        ['metadata', field, key],
        `${singular} key "${short(key)}" ${bad}`,
        `fix the ${singular} key, e.g. 'example.com/name'`,
        true,
      );
    }
    if (typeof value !== 'string') {
      invalid(
        ['metadata', field, key],
        `the value of ${singular} "${short(key)}" at ${formatPath(['metadata', field, key])} ${field === 'labels' ? `is ${typeName(value)}, not a string` : 'is not a string'}`,
        'quote the value: Kubernetes takes only strings here',
      );
      continue;
    }
    onEntry(key, value);
  }
}
