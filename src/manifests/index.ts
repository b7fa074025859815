// The manifests module: from the files of a commit to a validated, ordered list of
// Kubernetes objects. Everything here is pure except the renderers.
export type { SourceFile, ObjectId, SourceLocation, Manifest, Limits, LoadOptions } from './types.ts';
export { loadManifests, isManifestPath } from './load.ts';
export { objectKey, formatId } from './identity.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export { canonicalJson, digestOf } from './canonical.ts';
export { CONFIG_HASH_ANNOTATION } from './config-hash.ts';
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
} from './errors.ts';
export { renderDirectory, loadManifestsWithRenderers, renderedFileName } from './render.ts';
export type { RenderOptions } from './render.ts';
export type { RenderDeclaration } from './render-declaration.ts';
