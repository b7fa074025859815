import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first executable called `name` on PATH. */
export function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * argv that renders a kustomization directory: a standalone `kustomize build` when one is
 * installed, else `kubectl kustomize` (works offline). Default load restrictions stay on,
 * so a kustomization cannot read files outside the repository copy, and helm and exec
 * plugins stay off.
 */
export function kustomizeArgv(dir: string, path: string): { argv: string[]; name: string } | undefined {
  const kustomize = findOnPath('kustomize', path);
  if (kustomize) return { argv: [kustomize, 'build', dir], name: 'kustomize build' };
  const kubectl = findOnPath('kubectl', path) ?? findOnPath('kubectl', '/usr/local/bin:/usr/bin');
  if (kubectl) return { argv: [kubectl, 'kustomize', dir], name: 'kubectl kustomize' };
  return undefined;
}
