/** Name syntaxes of k8s.io/apimachinery/pkg/util/validation, as predicates plus a reason. */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Undefined when valid, else why not. */
export type Check = (value: string) => string | undefined;

/** A length cap, then a syntax: the shape of every name rule in apimachinery's validation. */
function bounded(max: number, syntax: RegExp, reason: string): Check {
  return (v) =>
    v.length > max
      ? `must be at most ${max} characters (it has ${v.length})`
      : syntax.test(v)
        ? undefined
        : reason;
}

export const dns1123Label = bounded(
  63,
  DNS1123_LABEL,
  "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
);

export const dns1123Subdomain = bounded(
  253,
  DNS1123_SUBDOMAIN,
  "must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
);

export const dns1035Label = bounded(
  63,
  DNS1035_LABEL,
  "must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
);

/** Names that only have to be usable as one URL path segment (RBAC allows 'system:foo'). */
export const pathSegment: Check = (v) =>
  v === '.' || v === '..' ? `may not be '${v}'` : /[/%]/.test(v) ? "may not contain '/' or '%'" : undefined;

/** Label and annotation keys: `[prefix/]name`, prefix a DNS-1123 subdomain. */
export const qualifiedName: Check = (v) => {
  const parts = v.split('/');
  if (parts.length > 2) return "may contain at most one '/'";
  const [prefixOrName = '', maybeName] = parts;
  const name = maybeName ?? prefixOrName;
  if (maybeName !== undefined) {
    if (prefixOrName === '') return "has an empty prefix before '/'";
    const bad = dns1123Subdomain(prefixOrName);
    if (bad) return `has a prefix that ${bad}`;
  }
  if (name === '') return 'has an empty name part';
  if (name.length > 63) return `has a name part longer than 63 characters (${name.length})`;
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "has a name part that is not alphanumeric with '-', '_' or '.' inside, starting and ending with a letter or digit";
  }
  return undefined;
};

export const labelValue: Check = (v) =>
  v.length > 63
    ? `must be at most 63 characters (it has ${v.length})`
    : LABEL_VALUE.test(v)
      ? undefined
      : "must be empty or alphanumeric with '-', '_' or '.' inside, starting and ending with a letter or digit";

/** Kinds: CamelCase; Kubernetes checks the lowercased kind as a DNS-1035 label. */
export const kindName: Check = (v) =>
  dns1035Label(v.toLowerCase()) ? 'must be letters and digits, starting with a letter' : undefined;
