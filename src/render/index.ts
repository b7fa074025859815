// Rendering: kustomize, helm and command renderers run as processes over a commit's files
// materialized into a private temporary directory (in a sandbox where the machine has one).
// The only part of the pipeline between Git and the parser that starts processes or writes
// to disk; parsing itself lives in src/manifests.
export {
  renderDirectory,
  loadManifestsWithRenderers,
  renderedFileName,
  rendererRuns,
} from './render-directory.ts';
export type { RenderOptions, Rendered } from './render-directory.ts';
export { commitFiles, CommitFiles } from './commit-files.ts';
export type { RenderDeclaration } from './declaration.ts';
