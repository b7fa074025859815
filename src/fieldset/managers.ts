/**
 * managedFields entries as per-manager field sets, and who owns a path.
 */
import { ManagedFieldsError } from './errors.ts';
import { isPlainObject } from './json.ts';
import type { Path } from './path.ts';
import { FieldSet } from './set.ts';

export type Operation = 'Apply' | 'Update';

/** One entry of `metadata.managedFields`, as the API server writes it. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: Operation;
  apiVersion?: string;
  time?: string;
  subresource?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
}

/** Who wrote a field: the manager name, how (Apply = server-side apply, Update = any other write), when. */
export interface Owner {
  manager: string;
  operation: Operation;
  time?: string;
  subresource?: string;
}

export interface ManagedSet {
  owner: Owner;
  set: FieldSet;
}

/**
 * Reads the managedFields of an object (or the managedFields array itself) into one field set
 * per entry, in the entries' order. An object without managedFields gives []. Entries whose
 * fieldsV1 is missing give an empty set. Throws ManagedFieldsError on anything else malformed.
 */
export function parseManagedFields(obj: unknown): ManagedSet[] {
  let entries: unknown = obj;
  if (!Array.isArray(obj)) {
    const metadata = isPlainObject(obj) ? obj['metadata'] : undefined;
    entries = isPlainObject(metadata) ? metadata['managedFields'] : undefined;
    if (entries === undefined || entries === null) return [];
  }
  if (!Array.isArray(entries)) throw new ManagedFieldsError('metadata.managedFields is not a list');
  return entries.map((raw, i) => parseEntry(raw, i));
}

function parseEntry(raw: unknown, i: number): ManagedSet {
  const where = `metadata.managedFields[${i}]`;
  if (!isPlainObject(raw)) throw new ManagedFieldsError(`${where} is not an object`);
  const { manager, operation, time, subresource, fieldsType, fieldsV1 } = raw;
  if (typeof manager !== 'string') throw new ManagedFieldsError(`${where}.manager is not a string`);
  if (operation !== 'Apply' && operation !== 'Update') {
    throw new ManagedFieldsError(
      `${where}.operation is ${JSON.stringify(operation)}, expected Apply or Update`,
    );
  }
  if (fieldsType !== undefined && fieldsType !== 'FieldsV1') {
    throw new ManagedFieldsError(`${where}.fieldsType is ${JSON.stringify(fieldsType)}, expected FieldsV1`);
  }
  const owner: Owner = { manager, operation };
  if (typeof time === 'string') owner.time = time;
  if (typeof subresource === 'string' && subresource !== '') owner.subresource = subresource;
  let set: FieldSet;
  try {
    set = fieldsV1 === undefined || fieldsV1 === null ? FieldSet.empty() : FieldSet.fromFieldsV1(fieldsV1);
  } catch (err) {
    if (err instanceof ManagedFieldsError) {
      throw new ManagedFieldsError(`${where} (manager ${manager}): ${err.message}`, {
        hint: err.hint,
        cause: err,
      });
    }
    throw err;
  }
  return { owner, set };
}

/**
 * Whether a field set owns the value at `path`. It does when
 * - `path` is a member, or
 * - a member lies below `path` (the set owns part of that value), or
 * - an ancestor of `path` is a member with nothing below it: an atomic value (such as a
 *   Deployment's `.spec.selector`) owned whole.
 * An ancestor that is a member *and* has members below it (a list item's `"."`) owns only the
 * item's existence, not `path`.
 */
export function ownsPath(set: FieldSet, path: Path): boolean {
  if (set.hasPrefix(path)) return true;
  for (let n = path.length - 1; n >= 1; n--) {
    const ancestor = path.slice(0, n);
    if (set.has(ancestor) && set.at(ancestor).isEmpty()) return true;
  }
  return false;
}

/** The owners (in managedFields order, each listed once) whose set owns `path`, as ownsPath defines. */
export function ownersOf(path: Path, managed: ManagedSet[]): Owner[] {
  const out: Owner[] = [];
  const seen = new Set<string>();
  for (const { owner, set } of managed) {
    if (!ownsPath(set, path)) continue;
    const id = `${owner.manager}\0${owner.operation}\0${owner.subresource ?? ''}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(owner);
  }
  return out;
}

/** The field set of `manager`'s entries with the given operation (union of them), empty if none. */
export function managerSet(
  managed: ManagedSet[],
  manager: string,
  operation?: Operation,
): FieldSet | undefined {
  let out: FieldSet | undefined;
  for (const { owner, set } of managed) {
    if (owner.manager !== manager || (operation !== undefined && owner.operation !== operation)) continue;
    out = out === undefined ? set : out.union(set);
  }
  return out;
}
