/**
 * Secret masking. Secret values never appear in drift reports, diffs, patches or the audit log:
 * every value under a Secret's `data` and `stringData` becomes "***", and so does the whole
 * `kubectl.kubernetes.io/last-applied-configuration` annotation (it holds a copy of the data).
 */
import { cloneJson, deepEqual, isPlainObject } from '../fieldset/json.ts';
import { LAST_APPLIED_ANNOTATION } from './normalize.ts';

export const MASK = '***';
/** Stands for a Secret value that differs from the value on the other side of a diff. */
export const MASK_CHANGED = '*** (changed)';

/** Whether `obj` is a Secret (kind `Secret`, in any API group: masking too much is the safe error). */
export function isSecret(obj: unknown): boolean {
  return isPlainObject(obj) && obj['kind'] === 'Secret';
}

const SECRET_MAPS = ['data', 'stringData'] as const;

/**
 * A copy of a Secret with its values masked; any other value is returned unchanged (not copied).
 * `other`, when given, is the object on the other side of a diff: values that differ from it
 * (or that it lacks) become MASK_CHANGED instead of MASK, so a diff still shows that they changed.
 */
export function maskSecret<T>(obj: T, other?: unknown): T {
  if (!isSecret(obj)) return obj;
  const out = cloneJson(obj) as Record<string, unknown>;
  const otherObj = isPlainObject(other) ? other : undefined;
  const marker = (mine: unknown, theirs: unknown): string =>
    otherObj !== undefined && !deepEqual(mine, theirs) ? MASK_CHANGED : MASK;
  for (const name of SECRET_MAPS) {
    const map = out[name];
    const otherMap = otherObj?.[name];
    if (isPlainObject(map)) {
      for (const k of Object.keys(map)) {
        map[k] = marker(map[k], isPlainObject(otherMap) ? otherMap[k] : undefined);
      }
    } else if (map !== undefined && map !== null) {
      out[name] = marker(map, otherMap);
    }
  }
  const metadata = out['metadata'];
  if (isPlainObject(metadata) && isPlainObject(metadata['annotations'])) {
    const annotations = metadata['annotations'];
    if (Object.hasOwn(annotations, LAST_APPLIED_ANNOTATION)) {
      const otherMeta = otherObj?.['metadata'];
      const otherAnn = isPlainObject(otherMeta) ? otherMeta['annotations'] : undefined;
      annotations[LAST_APPLIED_ANNOTATION] = marker(
        annotations[LAST_APPLIED_ANNOTATION],
        isPlainObject(otherAnn) ? otherAnn[LAST_APPLIED_ANNOTATION] : undefined,
      );
    }
  }
  return out as T;
}

/**
 * Masks both sides of a diff when either is a Secret. A value that differs shows as "***" on the
 * `before` side and "*** (changed)" on the `after` side, so the change is visible, its value not.
 */
export function maskSecretPair<A, B>(before: A, after: B): [A, B] {
  if (!isSecret(before) && !isSecret(after)) return [before, after];
  const b = isSecret(before) ? maskSecret(before) : before;
  const a = isSecret(after) ? maskSecret(after, before ?? {}) : after;
  return [b, a];
}
