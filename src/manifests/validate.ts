import { isRecord } from '../util/object.ts';
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

/**
 * Checks what Tether itself relies on before anything reaches a cluster: identity fields,
 * metadata syntax, and the app's namespace fence. Returns the identity when it is usable.
 */
export function validateObject(
  obj: Record<string, unknown>,
  opts: { allowedNamespaces?: readonly string[] | undefined },
): { id: ObjectId | undefined; problems: Problem[] } {
  const problems: Problem[] = [];
  const invalid = (path: PathSegment[], detail: string, hint: string, key = false) =>
    problems.push({ kind: 'invalid', path, key, detail, hint });

  let group: string | undefined;
  let version: string | undefined;
  const apiVersion = obj['apiVersion'];
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    invalid([], 'apiVersion is missing', "add apiVersion, e.g. 'v1' or 'apps/v1'");
  } else if (typeof apiVersion !== 'string') {
    invalid(['apiVersion'], `apiVersion is ${typeName(apiVersion)}, not a string`, 'quote it');
  } else {
    const gv = splitApiVersion(apiVersion);
    const groupProblem = gv && gv.group !== '' ? dns1123Subdomain(gv.group) : undefined;
    if (!gv || (apiVersion.includes('/') && gv.group === '')) {
      invalid(
        ['apiVersion'],
        `apiVersion "${short(apiVersion)}" is not 'group/version' or 'version'`,
        "write e.g. 'apps/v1'",
      );
    } else if (groupProblem) {
      invalid(
        ['apiVersion'],
        `the group of apiVersion "${short(apiVersion)}" ${groupProblem}`,
        "write e.g. 'apps/v1'",
      );
    } else if (dns1035Label(gv.version)) {
      invalid(
        ['apiVersion'],
        `the version of apiVersion "${short(apiVersion)}" is not a valid version (like v1 or v1beta1)`,
        "write e.g. 'apps/v1'",
      );
    } else {
      group = gv.group;
      version = gv.version;
    }
  }

  let kind: string | undefined;
  const rawKind = obj['kind'];
  if (rawKind === undefined || rawKind === null || rawKind === '') {
    invalid([], 'kind is missing', "add kind, e.g. 'ConfigMap'");
  } else if (typeof rawKind !== 'string') {
    invalid(
      ['kind'],
      `kind is ${typeName(rawKind)}, not a string`,
      "write the kind's name, e.g. 'ConfigMap'",
    );
  } else {
    const bad = kindName(rawKind);
    if (bad) invalid(['kind'], `kind "${short(rawKind)}" ${bad}`, "write the kind's name, e.g. 'ConfigMap'");
    else kind = rawKind;
  }

  const metadata = obj['metadata'];
  if (metadata === undefined || metadata === null) {
    invalid([], 'metadata is missing', 'add metadata with at least a name');
    return { id: undefined, problems };
  }
  if (!isRecord(metadata)) {
    invalid(
      ['metadata'],
      `metadata is ${typeName(metadata)}, not a mapping`,
      'make metadata a mapping with at least a name',
    );
    return { id: undefined, problems };
  }

  let name: string | undefined;
  const rawName = metadata['name'];
  if (rawName === undefined || rawName === null || rawName === '') {
    if (metadata['generateName'] !== undefined) {
      invalid(
        ['metadata', 'generateName'],
        'metadata.generateName without metadata.name: Tether needs a fixed name to track the object',
        'replace generateName with a fixed metadata.name',
      );
    } else {
      invalid(['metadata'], 'metadata.name is missing', 'add metadata.name');
    }
  } else if (typeof rawName !== 'string') {
    invalid(['metadata', 'name'], `metadata.name is ${typeName(rawName)}, not a string`, 'quote the name');
  } else if (group !== undefined && kind !== undefined) {
    const rule = nameRule(group, kind);
    const bad = rule.check(rawName);
    if (bad) invalid(['metadata', 'name'], `${rule.what} "${short(rawName)}" ${bad}`, 'rename the object');
    else name = rawName;
  }

  let namespace = '';
  const rawNamespace = metadata['namespace'];
  if (rawNamespace !== undefined && rawNamespace !== null && rawNamespace !== '') {
    if (typeof rawNamespace !== 'string') {
      invalid(
        ['metadata', 'namespace'],
        `metadata.namespace is ${typeName(rawNamespace)}, not a string`,
        'quote the namespace',
      );
    } else {
      const bad = dns1123Label(rawNamespace);
      if (bad)
        invalid(
          ['metadata', 'namespace'],
          `metadata.namespace "${short(rawNamespace)}" ${bad}`,
          'use a valid namespace name',
        );
      else namespace = rawNamespace;
    }
  }

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

  if (group === '' && (kind === 'ConfigMap' || kind === 'Secret')) {
    for (const field of kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data', 'stringData']) {
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
        // Types only: the values of a Secret never appear in an error.
        if (typeof value !== 'string' && value !== null) {
          const what = kind === 'Secret' ? 'is not a string' : `is ${typeName(value)}, not a string`;
          invalid([field, key], `${kind} ${field} "${short(key)}" ${what}`, 'quote the value');
        }
      }
    }
  }

  if (opts.allowedNamespaces && namespace !== '' && !opts.allowedNamespaces.includes(namespace)) {
    problems.push({
      kind: 'namespace',
      path: ['metadata', 'namespace'],
      detail: `namespace "${namespace}" is not one this app may write to (allowed: ${opts.allowedNamespaces.join(', ') || 'none'})`,
      hint: 'use an allowed namespace, or add it to destination.allowedNamespaces in the Tether config',
    });
  }
  if (
    opts.allowedNamespaces &&
    group === '' &&
    kind === 'Namespace' &&
    name !== undefined &&
    !opts.allowedNamespaces.includes(name)
  ) {
    problems.push({
      kind: 'namespace',
      path: ['metadata', 'name'],
      detail: `Namespace "${name}" is not one this app may manage (allowed: ${opts.allowedNamespaces.join(', ') || 'none'})`,
      hint: 'remove the Namespace, or add it to destination.allowedNamespaces in the Tether config',
    });
  }

  if (
    group === undefined ||
    version === undefined ||
    kind === undefined ||
    name === undefined ||
    problems.length > 0
  ) {
    return { id: undefined, problems };
  }
  return { id: { group, version, kind, namespace, name }, problems };
}

function checkStringMap(
  metadata: Record<string, unknown>,
  field: 'labels' | 'annotations',
  invalid: (path: PathSegment[], detail: string, hint: string, key?: boolean) => void,
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
