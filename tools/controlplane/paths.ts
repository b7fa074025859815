import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** Cache outside the repository: $TETHER_CACHE_DIR, else $XDG_CACHE_HOME/tether, else ~/.cache/tether. */
export function cacheRoot(): string {
  if (process.env.TETHER_CACHE_DIR) return resolve(process.env.TETHER_CACHE_DIR);
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tether');
}

/** Where the running local control plane keeps its state, certificates, data and logs. */
export function clusterDir(): string {
  return join(cacheRoot(), 'cluster');
}
