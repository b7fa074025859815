// Rendering: kustomize, helm and command renderers run as processes over a commit's files
// materialized into a private temporary directory (in a sandbox where the machine has one).
// The only part of the pipeline between Git and the parser that starts processes or writes
// to disk; parsing itself lives in src/manifests.
export { renderDirectory, renderedFileName, rendererRuns } from './render-directory.ts';
export { loadManifestsWithRenderers } from './load-with-renderers.ts';
export type { RenderOptions, Rendered } from './options.ts';
export { commitFiles, CommitFiles } from './commit-files.ts';
export type { RenderDeclaration } from './declaration.ts';
