/**
 * Secret masking for audit records. Secrets never appear in the audit log: for objects of kind
 * Secret, every value under `.data` and `.stringData` (and the last-applied annotation, which
 * copies them) becomes "***" in `fields[].desired/live`, whatever the field path's depth. The
 * original values (and, for base64 `data`, their decoded text) are then also scrubbed from
 * free-text places (error messages, details), where an API error or a caller might quote them.
 */
import { MASK, MASK_CHANGED, isSecret, maskSecret } from '../diff/index.ts';
import { isRecord } from '../util/object.ts';
import type { AuditField, AuditInput, AuditObject } from './record.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const LAST_APPLIED_PATH = `.metadata.annotations[${JSON.stringify(LAST_APPLIED)}]`;
const DATA_PATH = /^\.(?:data|stringData)(?:$|[.[])/;
/** Shorter values are not scrubbed from free text: "a" or "1" would mangle every message. */
const MIN_SCRUB_LENGTH = 4;

/** Every string, number and boolean leaf of `value` (the secret material it holds). */
function collectLeaves(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => collectLeaves(v, out));
  else if (isRecord(value)) Object.values(value).forEach((v) => collectLeaves(v, out));
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.add(String(value));
  }
}

/** Replaces every leaf with MASK; null (absent) stays null, already-masked markers stay. */
function maskAll(value: unknown): unknown {
  if (value === null || value === undefined || value === MASK || value === MASK_CHANGED) return value;
  if (Array.isArray(value)) return value.map(maskAll);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v)]));
  return MASK;
}

/** The masked value of a Secret's field at `path`, recording what it hid in `hidden`. */
function maskSecretValue(path: string, value: unknown, hidden: Set<string>): unknown {
  if (value === null || value === undefined) return value;
  if (DATA_PATH.test(path) || path.startsWith(LAST_APPLIED_PATH)) {
    collectLeaves(value, hidden);
    return maskAll(value);
  }
  // A field higher up (the whole object, its metadata or annotations) holds the secret maps or
  // the annotation below it: rebuild a Secret around the value and let maskSecret find them.
  const wrap: Record<string, (v: unknown) => Record<string, unknown>> = {
    '.': (v) => ({ ...(v as Record<string, unknown>), kind: 'Secret' }),
    '.metadata': (v) => ({ kind: 'Secret', metadata: v }),
    '.metadata.annotations': (v) => ({ kind: 'Secret', metadata: { annotations: v } }),
  };
  const build = wrap[path === '' ? '.' : path];
  if (build === undefined || !isRecord(value)) return value;
  const whole = build(value);
  const masked = maskSecret(whole);
  for (const key of ['data', 'stringData'] as const) collectLeaves(whole[key], hidden);
  const annotations = (whole['metadata'] as { annotations?: unknown } | undefined)?.annotations;
  if (isRecord(annotations)) collectLeaves(annotations[LAST_APPLIED], hidden);
  if (path === '' || path === '.') return { ...masked, kind: value['kind'] };
  const meta = masked['metadata'] as Record<string, unknown>;
  return path === '.metadata' ? meta : meta['annotations'];
}

function maskField(field: AuditField, hidden: Set<string>): AuditField {
  return {
    ...field,
    desired: maskSecretValue(field.path, field.desired, hidden),
    live: maskSecretValue(field.path, field.live, hidden),
  };
}

function scrub(text: string, hidden: string[]): string {
  let out = text;
  for (const secret of hidden) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

function scrubDeep(value: unknown, hidden: string[]): unknown {
  if (typeof value === 'string') return scrub(value, hidden);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, hidden));
  if (isRecord(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, hidden)]));
  return value;
}

/** Base64 `data` values are also hidden decoded, in case an error message quotes the plain text. */
function withDecoded(values: Set<string>): string[] {
  const out = new Set(values);
  for (const v of values) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) continue;
    const decoded = Buffer.from(v, 'base64').toString('utf8');
    if (!decoded.includes('\uFFFD')) out.add(decoded);
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...out]
    .filter((s) => s.length >= MIN_SCRUB_LENGTH && s !== MASK)
    .sort((a, b) => b.length - a.length);
}

/**
 * A copy of `input` with Secret values masked in fields and scrubbed from errors and details.
 * Other objects' field values are left alone: rewriting them would misreport what was applied.
 */
export function maskInput(input: AuditInput): AuditInput {
  const hidden = new Set<string>();
  const objects: AuditObject[] = input.objects.map((o) =>
    isSecret(o) && o.fields !== undefined ? { ...o, fields: o.fields.map((f) => maskField(f, hidden)) } : o,
  );
  const secrets = withDecoded(hidden);
  if (secrets.length === 0) return { ...input, objects };
  return {
    ...input,
    objects: objects.map((o) => ({
      ...o,
      ...(o.error === undefined ? {} : { error: scrub(o.error, secrets) }),
    })),
    ...(input.error === undefined ? {} : { error: scrub(input.error, secrets) }),
    ...(input.details === undefined
      ? {}
      : { details: scrubDeep(input.details, secrets) as Record<string, unknown> }),
  };
}
