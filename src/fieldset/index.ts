export type {
  FieldElement,
  IndexElement,
  KeyElement,
  Path,
  PathElement,
  PathPattern,
  PatternElement,
  ValueElement,
  Wildcard,
} from './path.ts';
export {
  compareElements,
  elementKey,
  elementMatches,
  formatPath,
  formatValue,
  isPrefixOf,
  parsePath,
  parsePathPattern,
  pathsEqual,
  patternCovers,
} from './path.ts';
export { FieldSet } from './set.ts';
export { elementFromFieldsV1Key, elementToFieldsV1Key } from './fieldsv1.ts';
export type { ManagedFieldsEntry, ManagedSet, Operation, Owner } from './managers.ts';
export { managerSet, ownersOf, ownsPath, parseManagedFields } from './managers.ts';
export { pointerAt, valueAt } from './value-at.ts';
export { withoutPaths } from './remove-at.ts';
export { fieldSetFromObject } from './from-object.ts';
export { canonicalJson, deepEqual, isPlainObject } from './json.ts';
export { FieldPathError, ManagedFieldsError } from './errors.ts';
