import { findOnPath, findTool } from './tools.ts';

export { findOnPath } from './tools.ts';

// The repository is the load root, as Flux has it: an overlay may use patches and generator
// files from a shared directory (`../../shared/patches`). What any kustomization reaches is
// checked before kustomize runs (kustomize-refs.ts), and the sandbox holds only the commit.
const LOAD_ROOT = ['--load-restrictor', 'LoadRestrictionsNone'];

/**
 * argv that renders a kustomization directory: a standalone `kustomize build` (PATH,
 * TETHER_KUSTOMIZE, the project's build), else `kubectl kustomize` (works offline). helm
 * inflation and exec plugins stay off.
 */
export function kustomizeArgv(dir: string, path: string): { argv: string[]; name: string } | undefined {
  const kustomize = findTool('kustomize', path);
  if (kustomize) return { argv: [kustomize.path, 'build', dir, ...LOAD_ROOT], name: 'kustomize build' };
  const kubectl = findOnPath('kubectl', path) ?? findOnPath('kubectl', '/usr/local/bin:/usr/bin');
  if (kubectl) return { argv: [kubectl, 'kustomize', dir, ...LOAD_ROOT], name: 'kubectl kustomize' };
  return undefined;
}
