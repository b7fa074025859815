/** `sync --wait`: wait for the applied objects' health, print it, and audit the outcome. */
import type { AuditInput } from '../audit/index.ts';
import { formatId } from '../manifests/index.ts';
import type { App } from '../sync/app.ts';
import type { ApplyStatus, ObjectResult } from '../sync/outcome.ts';
import type { Connection } from '../sync/pipeline.ts';
import type { PlannedObject } from '../sync/plan.ts';
import { resolvedId } from '../sync/classify.ts';
import { unhealthyObjects, waitHealthy, type WaitResult } from '../sync/wait.ts';
import { objectKey } from '../manifests/identity.ts';

/** The objects the apply left in the cluster: what `--wait` waits for. */
const APPLIED: ReadonlySet<ApplyStatus> = new Set(['created', 'configured', 'unchanged', 'conflict']);

export function appliedObjects(
  plan: readonly PlannedObject[],
  results: readonly ObjectResult[],
): PlannedObject[] {
  const applied = new Set(
    results.filter((r) => APPLIED.has(r.status as ApplyStatus)).map((r) => objectKey(r.id)),
  );
  return plan.filter((p) => applied.has(objectKey(resolvedId(p))));
}

export async function waitForHealth(
  conn: Connection,
  objects: PlannedObject[],
  timeoutMs: number,
): Promise<WaitResult> {
  return waitHealthy(conn, objects, {
    timeoutMs,
    onProgress: (current, total) => conn.onProgress?.('healthy', current, total),
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The lines `sync --wait` prints after the apply. */
export function healthLines(w: WaitResult, timeoutMs: number): string[] {
  if (w.status === 'Current')
    return [`healthy    ${w.objects.length} objects Current after ${seconds(w.elapsedMs)}`];
  const lines: string[] = [];
  for (const o of w.objects) {
    const h = o.health;
    if (h.status === 'Current') continue;
    const word = h.status === 'Failed' ? 'failed' : w.timedOut ? 'timed out' : h.status.toLowerCase();
    const why = `${h.status}${h.reason ? ` ${h.reason}` : ''}: ${h.message}`;
    lines.push(`${word.padEnd(10)} ${formatId(o.id)}  (${why})`);
  }
  const current = w.objects.filter((o) => o.health.status === 'Current').length;
  lines.push(
    w.timedOut
      ? `not healthy within ${seconds(timeoutMs)}: ${current} of ${w.objects.length} objects Current`
      : `not healthy: ${current} of ${w.objects.length} objects Current`,
  );
  return lines;
}

/** The health of the commit, in the audit log after its apply record. */
export function healthRecord(app: App, commit: AuditInput['commit'], w: WaitResult): AuditInput {
  return {
    app: app.name,
    commit,
    trigger: 'cli',
    mode: 'apply',
    result: w.status === 'Current' ? 'healthy' : 'degraded',
    objects: [],
    details: {
      health: {
        status: w.status,
        timedOut: w.timedOut,
        seconds: Math.round(w.elapsedMs) / 1000,
        objects: unhealthyObjects(w.objects),
      },
    },
  };
}
