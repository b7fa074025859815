// The audit log's lock: `<log>.lock` around "read the tail, append" (src/util/file-lock.ts).
import { acquireLock, type HeldLock } from '../util/file-lock.ts';
import { AuditLockError } from './errors.ts';

export type { HeldLock };
export const DEFAULT_LOCK_WAIT_MS = 30_000;

export function acquireAuditLock(path: string, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<HeldLock> {
  return acquireLock(path, {
    waitMs,
    timeout: (pid) =>
      new AuditLockError(
        `audit log lock ${path} has been held by another process${pid ? ` (pid ${pid})` : ''} for over ${Math.round(waitMs / 1000)} s`,
        { hint: `if no other tether process is writing this audit log, delete ${path} and retry` },
      ),
  });
}
