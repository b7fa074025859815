/**
 * A field set read off an object without a schema: every scalar, list and empty object is a
 * leaf (lists are treated as atomic, since their key fields are unknown without a schema).
 * The drift engine uses managedFields instead; this is for callers that have no dry-run result.
 */
import { isPlainObject } from './json.ts';
import type { Path } from './path.ts';
import { FieldSet } from './set.ts';

export function fieldSetFromObject(obj: unknown): FieldSet {
  const paths: Path[] = [];
  const walk = (value: unknown, at: Path): void => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, [...at, { field: k }]);
    } else if (at.length > 0) {
      paths.push(at);
    }
  };
  walk(obj, []);
  return FieldSet.fromPaths(paths);
}
