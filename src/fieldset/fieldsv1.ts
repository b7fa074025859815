/**
 * The fieldsV1 wire format of `metadata.managedFields[].fieldsV1`: a JSON object trie whose
 * keys are path elements (`f:<name>`, `k:<json object>`, `v:<json value>`, `i:<n>`) and whose
 * values are sub-tries. An empty object `{}` marks a member; a `"."` key inside a non-empty
 * sub-trie marks that its own path is a member too (the field or list item itself is owned).
 */
import { ManagedFieldsError } from './errors.ts';
import { isPlainObject } from './json.ts';
import type { PathElement } from './path.ts';
import { elementKey, formatPath } from './path.ts';

/** Reads one fieldsV1 key. `at` is the path of the parent, for the error message. */
export function elementFromFieldsV1Key(key: string, at: PathElement[] = []): PathElement {
  const kind = key.slice(0, 2);
  const rest = key.slice(2);
  const fail = (why: string): never => {
    throw new ManagedFieldsError(
      `invalid fieldsV1 key ${JSON.stringify(key)} under ${formatPath(at)}: ${why}`,
      {
        hint: 'managedFields must be as the API server writes them (fieldsType FieldsV1)',
      },
    );
  };
  if (kind === 'f:') return { field: rest };
  if (kind === 'i:') {
    if (!/^(0|[1-9]\d*)$/.test(rest)) fail('index is not a non-negative integer');
    return { index: Number(rest) };
  }
  if (kind === 'k:' || kind === 'v:') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rest);
    } catch {
      return fail('not valid JSON after the prefix');
    }
    if (kind === 'v:') return { value: parsed };
    if (!isPlainObject(parsed)) fail('a k: key must be a JSON object');
    return { key: parsed as Record<string, unknown> };
  }
  return fail('expected a prefix f:, k:, v: or i:');
}

/** Writes one element as a fieldsV1 key (keys and object values with sorted fields). */
export function elementToFieldsV1Key(pe: PathElement): string {
  return elementKey(pe);
}
