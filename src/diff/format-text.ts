/**
 * Text output: unified YAML diffs and one-line drift descriptions. Colour is ANSI and only on
 * request (the caller decides from the TTY and NO_COLOR).
 */
import { stringify } from 'yaml';
import type { Owner } from '../fieldset/managers.ts';
import type { FieldDrift } from './drift.ts';
import { formatRange, diffLines, hunks } from './line-diff.ts';
import { maskSecretPair } from './mask.ts';

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', cyan: '\x1b[36m', bold: '\x1b[1m', reset: '\x1b[0m' };

export interface UnifiedDiffOptions {
  color: boolean;
  /** Unchanged lines around each change; default 3. */
  context?: number;
  labelBefore: string;
  labelAfter: string;
}

/** YAML text of an object as diffs show it ('' for undefined): no line folding, no anchors. */
export function toYaml(obj: unknown): string {
  if (obj === undefined) return '';
  return stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false });
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

/**
 * A unified diff of the two objects as YAML ('' when they are equal). `undefined` stands for a
 * missing object (all lines added or removed). Secrets are masked first (see maskSecretPair).
 * Objects are compared as given: normalise them first (normalizeForDiff) to hide server fields.
 */
export function unifiedYamlDiff(before: unknown, after: unknown, opts: UnifiedDiffOptions): string {
  const [b, a] = maskSecretPair(before, after);
  const ops = diffLines(lines(toYaml(b)), lines(toYaml(a)));
  const hs = hunks(ops, opts.context ?? 3);
  if (hs.length === 0) return '';
  const paint = (code: string, text: string): string => (opts.color ? `${code}${text}${ANSI.reset}` : text);
  const out = [paint(ANSI.bold, `--- ${opts.labelBefore}`), paint(ANSI.bold, `+++ ${opts.labelAfter}`)];
  for (const h of hs) {
    out.push(
      paint(
        ANSI.cyan,
        `@@ -${formatRange(h.oldStart, h.oldCount)} +${formatRange(h.newStart, h.newCount)} @@`,
      ),
    );
    for (const { op, line } of h.ops) {
      const text = `${op}${line}`;
      out.push(op === '-' ? paint(ANSI.red, text) : op === '+' ? paint(ANSI.green, text) : text);
    }
  }
  return out.join('\n') + '\n';
}

/** A value on one line: JSON, `<absent>` for null (a missing field), cut at `max` characters. */
export function formatDriftValue(value: unknown, max = 80): string {
  if (value === null || value === undefined) return '<absent>';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Characters kept before the first difference when two long values are cut around it. */
const LEAD = 24;

/** `text` from `start`, at most `max` characters with the `…` marks, which say what was cut. */
function window(text: string, start: number, max: number): string {
  const head = start > 0 ? '…' : '';
  const room = max - head.length;
  const rest = text.slice(start);
  return head + (rest.length > room ? `${rest.slice(0, room - 1)}…` : rest);
}

/**
 * Two differing values on one line each, as formatDriftValue, but a value too long to show
 * whole is cut around the first character where the two differ: `…/app:v1.2.4"` against
 * `…/app:v1.2.3"` keeps the tag that changed, never only the common start.
 */
export function formatDriftValues(desired: unknown, live: unknown, max = 80): [string, string] {
  const absent = (v: unknown) => v === null || v === undefined;
  if (absent(desired) || absent(live)) return [formatDriftValue(desired, max), formatDriftValue(live, max)];
  const a = JSON.stringify(desired);
  const b = JSON.stringify(live);
  if (a.length <= max && b.length <= max) return [a, b];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  // Where both differ from the start, or the difference shows anyway, cut the end as usual.
  if (i < max - LEAD) return [formatDriftValue(desired, max), formatDriftValue(live, max)];
  // At least LEAD characters before the difference; more when the values end soon after it.
  const start = Math.min(i - LEAD, Math.max(a.length, b.length) - (max - 1));
  return [window(a, start, max), window(b, start, max)];
}

/** `kubectl (Update, subresource scale, 2026-03-02T10:20:00Z)`. */
export function formatOwner(owner: Owner): string {
  const parts: string[] = [owner.operation];
  if (owner.subresource !== undefined) parts.push(`subresource ${owner.subresource}`);
  if (owner.time !== undefined) parts.push(owner.time);
  return `${owner.manager} (${parts.join(', ')})`;
}

/** `kubectl (Update), hpa (Apply)`: who owns a field, briefly; `none` when nobody does. */
export function formatOwnersBrief(owners: readonly Owner[], none: string): string {
  return owners.length ? owners.map((o) => `${o.manager} (${o.operation})`).join(', ') : none;
}

/** `.spec.replicas: desired 2, live 5, changed by kubectl (Update, subresource scale, …)`. */
export function formatFieldDrift(field: FieldDrift, opts: { color: boolean }): string {
  const paint = (code: string, text: string): string => (opts.color ? `${code}${text}${ANSI.reset}` : text);
  const by =
    field.owners.length === 0 ? 'no live owner' : `owned by ${field.owners.map(formatOwner).join(', ')}`;
  const [desired, live] = formatDriftValues(field.desired, field.live);
  return (
    `${paint(ANSI.bold, field.path)}: desired ${paint(ANSI.green, desired)}, ` +
    `live ${paint(ANSI.red, live)}; ${by}`
  );
}
