/**
 * Drift: which fields that Git sets have a different value in the live object, and who wrote
 * the live value.
 *
 * `desired` is the result of a forced server-side dry-run apply of the Git object, so it is
 * already defaulted and normalised by the server (`1000m` vs `1`, `protocol: TCP`, strategy
 * defaults never show as drift), and its managedFields entry for the desired manager (operation
 * Apply) is exactly the set of fields Git sets, with list keys resolved. For every leaf of that
 * set the values in `desired` and `live` are compared; a value missing on one side differs.
 */
import { FIELD_MANAGER } from '../contract.ts';
import { deepEqual } from '../fieldset/json.ts';
import type { Owner } from '../fieldset/managers.ts';
import { managerSet, ownersOf, parseManagedFields } from '../fieldset/managers.ts';
import type { Path } from '../fieldset/path.ts';
import { formatPath, isFieldElement, isListItemElement } from '../fieldset/path.ts';
import type { FieldSet } from '../fieldset/set.ts';
import { pointerAt, valueAt } from '../fieldset/value-at.ts';
import { DriftInputError } from './errors.ts';
import type { IgnoreRule } from './ignore.ts';
import { compileIgnoreRules, ignoreRulesFor, isFieldIgnored } from './ignore.ts';
import { isSecret, maskSecret } from './mask.ts';
import { isServerManagedPath, normalizeForDiff } from './normalize.ts';

/**
 * One drifted field. `path` is in display form. `desired`/`live` are the values, or `null` when
 * the field is absent on that side (the API server never stores null values, so null is
 * unambiguous and survives JSON). Secret values are "***". `owners` are the live object's
 * managers of the field (see ownsPath), in managedFields order.
 */
export interface FieldDrift {
  path: string;
  desired: unknown;
  live: unknown;
  owners: Owner[];
}

export type DriftStatus = 'in-sync' | 'drifted' | 'missing';

export interface DriftInput {
  /** The result of a forced server-side dry-run apply of the Git object. */
  desired: Record<string, unknown>;
  /** The live object; undefined when it does not exist. */
  live: Record<string, unknown> | undefined;
  /** Field manager Tether applies as; default 'tether'. */
  desiredManager?: string;
  ignore?: IgnoreRule[];
  /** Overrides the field set read from `desired`'s managedFields (for callers without a dry-run). */
  desiredFields?: FieldSet;
}

export interface DriftResult {
  status: DriftStatus;
  /** Drifted fields in path order; empty when in sync or missing. */
  fields: FieldDrift[];
}

/** Tether's own field manager: the one whose Apply entry is Git's field set. */
export const DEFAULT_MANAGER = FIELD_MANAGER;

function describe(obj: Record<string, unknown>): string {
  const md = obj['metadata'] as Record<string, unknown> | undefined;
  const ns = typeof md?.['namespace'] === 'string' ? `${md['namespace']}/` : '';
  const name = typeof md?.['name'] === 'string' ? md['name'] : '<unnamed>';
  const kind = typeof obj['kind'] === 'string' ? obj['kind'] : 'object';
  return `${kind} ${ns}${name}`;
}

/**
 * A Secret applied with `stringData` comes back from the server with the values moved to `data`;
 * compare `.data.K` for Git's `.stringData.K` when the desired object has no `stringData`.
 */
function comparePath(leaf: Path, desired: unknown, secret: boolean): Path {
  const [first, ...rest] = leaf;
  if (!secret || first === undefined || !isFieldElement(first) || first.field !== 'stringData') return leaf;
  if (valueAt(desired, [first]).found) return leaf;
  return [{ field: 'data' }, ...rest];
}

/** The shortest ancestor of `leaf` that is a list item missing on either side, if any. */
function missingItem(leaf: Path, desired: unknown, live: unknown): Path | undefined {
  for (let n = 1; n < leaf.length; n++) {
    if (!isListItemElement(leaf[n - 1] as Path[number])) continue;
    const prefix = leaf.slice(0, n);
    if (!valueAt(desired, prefix).found || !valueAt(live, prefix).found) return prefix;
  }
  return undefined;
}

/**
 * Compares the fields Git sets. Rules:
 * - live undefined: status 'missing', no fields.
 * - status, managedFields, resourceVersion, generation, uid, creationTimestamp, selfLink,
 *   deletion fields and the last-applied annotation never count.
 * - A list item (such as a container) missing on one side is reported once, at the item's
 *   path, with the whole item as value, instead of once per field inside it.
 * - A field is skipped when an ignore rule covers it (see ignore.ts); rules are matched against
 *   the leaf path, its JSON pointers in either object, and its live owners.
 * - Secrets are compared by their real values and reported with "***".
 * Throws DriftInputError when `desired` has no managedFields entry (operation Apply) for the
 * desired manager and no `desiredFields` is given, and ManagedFieldsError on malformed managedFields.
 */
export function computeDrift(input: DriftInput): DriftResult {
  if (input.live === undefined) return { status: 'missing', fields: [] };
  const manager = input.desiredManager ?? DEFAULT_MANAGER;
  const gitSet = input.desiredFields ?? managerSet(parseManagedFields(input.desired), manager, 'Apply');
  if (gitSet === undefined) {
    throw new DriftInputError(
      `the dry-run result for ${describe(input.desired)} has no managedFields entry for manager ${JSON.stringify(manager)} with operation Apply`,
      { hint: `compare the result of a server-side dry-run apply made with fieldManager=${manager}` },
    );
  }
  const liveManaged = parseManagedFields(input.live);
  const rules = ignoreRulesFor(compileIgnoreRules(input.ignore), input.desired);
  const desired = normalizeForDiff(input.desired);
  const live = normalizeForDiff(input.live);
  const secret = isSecret(desired) || isSecret(live);
  const shownDesired = secret ? maskSecret(desired) : desired;
  const shownLive = secret ? maskSecret(live) : live;

  const out = new Map<string, FieldDrift>();
  for (const leaf of gitSet.leaves()) {
    if (isServerManagedPath(leaf)) continue;
    const path = comparePath(leaf, desired, secret);
    const d = valueAt(desired, path);
    const l = valueAt(live, path);
    if (d.found === l.found && (!d.found || deepEqual(d.value, l.value))) continue;

    const owners = ownersOf(path, liveManaged);
    const pointers = [pointerAt(desired, path), pointerAt(live, path)].filter((p) => p !== undefined);
    if (isFieldIgnored(rules, { path: leaf, pointers, owners })) continue;
    if (path !== leaf && isFieldIgnored(rules, { path, pointers, owners })) continue;

    const item = missingItem(path, desired, live);
    const reportPath = item ?? leaf;
    const valuePath = item ?? path;
    const key = formatPath(reportPath);
    if (out.has(key)) continue;
    const ds = valueAt(shownDesired, valuePath);
    const ls = valueAt(shownLive, valuePath);
    out.set(key, {
      path: key,
      desired: ds.found ? ds.value : null,
      live: ls.found ? ls.value : null,
      owners: item === undefined ? owners : ownersOf(item, liveManaged),
    });
  }
  const fields = [...out.values()];
  return { status: fields.length > 0 ? 'drifted' : 'in-sync', fields };
}

/**
 * What kind of drift a field is, from its live owners:
 * - 'conflict': another server-side applier (operation Apply, not the desired manager) owns the
 *   live value: two declarative owners disagree; never overwrite silently.
 * - 'imperative': an Update (kubectl edit/scale/patch/label, a controller) wrote the live value.
 * - 'git': only the desired manager owns the live value: Git changed since the last apply.
 * - 'unowned': nobody owns the live value: the field is new in Git, or someone removed it.
 */
export function classifyFieldDrift(
  field: FieldDrift,
  desiredManager: string = DEFAULT_MANAGER,
): 'conflict' | 'imperative' | 'git' | 'unowned' {
  const others = field.owners.filter((o) => !(o.manager === desiredManager && o.operation === 'Apply'));
  if (others.some((o) => o.operation === 'Apply')) return 'conflict';
  if (others.length > 0) return 'imperative';
  return field.owners.length > 0 ? 'git' : 'unowned';
}
