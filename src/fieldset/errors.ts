import { TetherError } from '../errors.ts';

/** A field path in display form (`.spec.containers[name=web].image`) that cannot be parsed. */
export class FieldPathError extends TetherError {}

/** A `metadata.managedFields` entry or its `fieldsV1` trie that is not in the format the API server writes. */
export class ManagedFieldsError extends TetherError {}
