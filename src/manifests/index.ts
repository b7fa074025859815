// The manifests module, pure: from the files of a commit to a validated list of Kubernetes
// objects (parsing, validation, identity, config-hash injection). Renderers are in src/render.
export type { SourceFile, ObjectId, SourceLocation, Manifest, Limits, LoadOptions } from './types.ts';
export { loadManifests, isManifestPath } from './load.ts';
export { objectKey, formatId } from './identity.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export { canonicalJson, digestOf } from './canonical.ts';
export { CONFIG_HASH_ANNOTATION } from './config-hash.ts';
export { secretMasker, maskError, noMasking, type Masker } from './secret-masking.ts';
export { formatLocation } from './errors.ts';
export {
  ManifestErrors,
  ManifestError,
  ManifestSyntaxError,
  EncodingError,
  LimitExceededError,
  DuplicateKeyError,
  UnrepresentableValueError,
  InvalidObjectError,
  DuplicateObjectError,
  NamespaceNotAllowedError,
  RenderDeclarationError,
  RenderError,
  RenderReferenceError,
} from './errors.ts';
