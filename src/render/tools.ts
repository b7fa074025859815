import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

/** The first executable called `name` on PATH. */
export function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `npm run cluster -- build` caches the tools it builds (tools/controlplane/paths.ts). */
function buildCacheBin(env: NodeJS.ProcessEnv): string {
  if (env['TETHER_CACHE_DIR']) return join(resolve(env['TETHER_CACHE_DIR']), 'bin');
  return join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tether', 'bin');
}

/** The newest `<name>-<version>-<hash>` the project's builder left in its cache. */
function fromBuildCache(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const dir = buildCacheBin(env);
  let newest: { path: string; mtime: number } | undefined;
  try {
    for (const entry of readdirSync(dir)) {
      if (!entry.startsWith(`${name}-v`) || entry.includes('.tmp-')) continue;
      const path = join(dir, entry);
      if (!isExecutable(path)) continue;
      const mtime = statSync(path).mtimeMs;
      if (!newest || mtime > newest.mtime) newest = { path, mtime };
    }
  } catch {
    return undefined;
  }
  return newest?.path;
}

export interface FoundTool {
  path: string;
  /** How it was found, for messages. */
  from: 'PATH' | 'env' | 'build cache';
}

/**
 * A renderer binary: on PATH first (the image installs kustomize and helm there), then the
 * file its environment variable names (TETHER_KUSTOMIZE, TETHER_HELM), then the build the
 * project makes for its tests (`npm run cluster -- build`).
 */
export function findTool(
  name: 'kustomize' | 'helm',
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): FoundTool | undefined {
  const onPath = findOnPath(name, path);
  if (onPath) return { path: onPath, from: 'PATH' };
  const fromEnv = env[`TETHER_${name.toUpperCase()}`];
  if (fromEnv && isExecutable(fromEnv)) return { path: fromEnv, from: 'env' };
  const built = fromBuildCache(name, env);
  return built ? { path: built, from: 'build cache' } : undefined;
}
