/**
 * Strips what the API server writes on its own (bookkeeping metadata and status) so that two
 * objects compare and display by their content.
 */
import { cloneJson, isPlainObject } from '../fieldset/json.ts';
import type { Path } from '../fieldset/path.ts';
import { isFieldElement } from '../fieldset/path.ts';

/** metadata fields the server sets and that never count as a difference. */
export const SERVER_METADATA_FIELDS: readonly string[] = [
  'managedFields',
  'resourceVersion',
  'generation',
  'uid',
  'creationTimestamp',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A copy of `obj` without `status`, the SERVER_METADATA_FIELDS and the client-side-apply
 * annotation `kubectl.kubernetes.io/last-applied-configuration` (an empty `annotations` map
 * left behind is removed too). Non-objects are returned as they are.
 */
export function normalizeForDiff<T>(obj: T): T {
  if (!isPlainObject(obj)) return obj;
  const out = cloneJson(obj) as Record<string, unknown>;
  delete out['status'];
  const metadata = out['metadata'];
  if (isPlainObject(metadata)) {
    for (const f of SERVER_METADATA_FIELDS) delete metadata[f];
    const annotations = metadata['annotations'];
    if (isPlainObject(annotations) && Object.hasOwn(annotations, LAST_APPLIED_ANNOTATION)) {
      delete annotations[LAST_APPLIED_ANNOTATION];
      if (Object.keys(annotations).length === 0) delete metadata['annotations'];
    }
  }
  return out as T;
}

/** Whether a path lies in what normalizeForDiff strips: such paths are never drift. */
export function isServerManagedPath(path: Path): boolean {
  const [a, b, c, d] = path;
  if (a === undefined || !isFieldElement(a)) return false;
  if (a.field === 'status') return true;
  if (a.field !== 'metadata' || b === undefined || !isFieldElement(b)) return false;
  if (SERVER_METADATA_FIELDS.includes(b.field)) return true;
  return (
    b.field === 'annotations' &&
    d === undefined &&
    c !== undefined &&
    isFieldElement(c) &&
    c.field === LAST_APPLIED_ANNOTATION
  );
}
