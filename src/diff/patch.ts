/** RFC 6902 JSON Patch between two objects (for audit records and machine-readable diffs). */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { maskSecretPair } from './mask.ts';

export type { Operation };

/**
 * The operations that turn `before` into `after`. `undefined` stands for a missing object: the
 * patch is one `add` (or `remove`) of the whole document at path "". Secret values are masked
 * first (see maskSecretPair), so a patch of a Secret records which keys changed, not their values.
 */
export function jsonPatch(before: unknown, after: unknown): Operation[] {
  const [b, a] = maskSecretPair(before, after);
  if (b === undefined && a === undefined) return [];
  if (b === undefined) return [{ op: 'add', path: '', value: a }];
  if (a === undefined) return [{ op: 'remove', path: '' }];
  return jsonpatch.compare(b as object, a as object);
}
