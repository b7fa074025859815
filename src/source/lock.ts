// A lock file per cache directory, so two processes (or two pollers of one process) never
// fetch into, rebuild or swap the same cache at once (src/util/file-lock.ts).
import { withLock } from '../util/file-lock.ts';
import { CacheLockedError } from './errors.ts';

const DEFAULT_WAIT_MS = 120_000;

export function withCacheLock<T>(path: string, fn: () => Promise<T>, waitMs = DEFAULT_WAIT_MS): Promise<T> {
  return withLock(
    path,
    {
      waitMs,
      maxPollMs: 75,
      timeout: () =>
        new CacheLockedError(
          `git cache ${path} has been locked by another process for over ${waitMs / 1000} s`,
          {
            hint: `if no other tether process is running, delete ${path}`,
          },
        ),
    },
    fn,
  );
}
