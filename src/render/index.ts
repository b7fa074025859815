// Rendering: kustomize and command renderers run as processes over a commit's files copied
// into a private temporary directory. The only part of the pipeline between Git and the
// parser that starts processes or writes to disk; parsing itself lives in src/manifests.
export { renderDirectory, loadManifestsWithRenderers, renderedFileName } from './render-directory.ts';
export type { RenderOptions } from './render-directory.ts';
export type { RenderDeclaration } from './declaration.ts';
