/**
 * The audit log as the write gate of apply mode: an intent record (the commit and the
 * objects about to change) appended and fsynced before the first write of a reconcile, a
 * completion record linked to it after (details.intent), and a completion that records the
 * writes known to be made when the reconcile stops half way (leaving the intent open). No
 * write happens when the intent cannot be appended. An intent left without completion by a process that died is completed
 * by the next reconcile as a `recovered` record naming what it found in the cluster.
 */
import type { AuditField, AuditInput, AuditLog, AuditRecord, AuditTrigger } from '../audit/index.ts';
import { MASK, MASK_CHANGED } from '../diff/index.ts';
import { deepEqual, parsePath, valueAt } from '../fieldset/index.ts';
import { iterateAuditLog } from '../audit/index.ts';
import { FIELD_MANAGER } from '../contract.ts';
import { failpoint } from '../util/failpoint.ts';
import { readInventory } from '../cluster/inventory.ts';
import type { CommitInfo } from '../source/index.ts';
import { ApplyInterruptedError } from './errors.ts';
import { applyCommit, type ApplyInput, type ApplyOutcome } from './execute.ts';
import { apiVersionOf } from './outcome.ts';
import type { Connection } from './pipeline.ts';
import { auditCommit, auditInput } from './to-audit.ts';
import type { PlannedWrite, WriteGate } from './write-gate.ts';

/** The part of the audit log the write-ahead needs (the agent wraps it to watch its health). */
export type AuditAppender = Pick<AuditLog, 'append' | 'path'>;

interface Reconcile {
  app: string;
  commit: CommitInfo;
  trigger: AuditTrigger;
}

export class WriteAhead implements WriteGate {
  private readonly log: AuditAppender;
  private readonly r: Reconcile;
  private readonly fence: () => void;
  private readonly verify: (() => Promise<void>) | undefined;
  /** seq of this reconcile's intent record, once appended. */
  intent: number | undefined;

  constructor(
    log: AuditAppender,
    reconcile: Reconcile,
    fence: () => void = () => {},
    verify?: () => Promise<void>,
  ) {
    this.log = log;
    this.r = reconcile;
    this.fence = fence;
    this.verify = verify;
  }

  async checkpoint(): Promise<void> {
    await this.verify?.();
  }

  async open(planned: PlannedWrite[]): Promise<void> {
    this.fence();
    const record = await this.log.append({
      app: this.r.app,
      commit: auditCommit(this.r.commit),
      trigger: this.r.trigger,
      mode: 'apply',
      result: 'intent',
      objects: planned.map((p) => ({
        apiVersion: apiVersionOf(p.id),
        kind: p.id.kind,
        namespace: p.id.namespace,
        name: p.id.name,
        action: p.action === 'prune' ? ('planned-prune' as const) : ('planned' as const),
        ...(p.fields.length ? { fields: p.fields } : {}),
      })),
    });
    this.intent = record.seq;
    failpoint('after-intent');
  }

  check(): void {
    this.fence();
  }

  /** The completion record: linked to the intent when this reconcile wrote. */
  complete(input: AuditInput): AuditInput {
    if (this.intent === undefined) return input;
    return { ...input, details: { ...input.details, intent: this.intent } };
  }
}

export interface AuditedApply extends ApplyOutcome {
  gate: WriteAhead;
}

/**
 * applyCommit with the write-ahead gate. When the reconcile stops after it began writing,
 * the completion record of what it wrote is appended before the error goes on.
 */
export async function applyAudited(
  input: ApplyInput & {
    log: AuditAppender;
    commitInfo: CommitInfo;
    trigger: AuditTrigger;
    /** Before each write: throws when this process may no longer write (fencing). */
    fence?: () => void;
    /** Before each write phase (a lease read). */
    checkpoint?: () => Promise<void>;
  },
): Promise<AuditedApply> {
  const gate = new WriteAhead(
    input.log,
    { app: input.app, commit: input.commitInfo, trigger: input.trigger },
    input.fence,
    input.checkpoint,
  );
  try {
    return { ...(await applyCommit({ ...input, gate })), gate };
  } catch (e) {
    if (!(e instanceof ApplyInterruptedError) || gate.intent === undefined) throw e;
    const record = auditInput({
      app: input.app,
      commit: input.commitInfo,
      trigger: input.trigger,
      mode: 'apply',
      results: e.results,
      commitIsNew: true,
    });
    const wrote = record.objects.length > 0;
    // What is known to be written; not the intent's completion: writes in flight when it
    // stopped, or whose answers were lost, may have reached the cluster too. The intent stays
    // open for the next reconcile to complete from what the cluster shows (recoverIntents).
    await input.log.append({
      ...record,
      result: wrote ? 'partial' : 'error',
      error: e.message,
      details: { ...record.details, interrupted: gate.intent },
    });
    throw e;
  }
}

/** Intents of `app` that no later record completes (a process died between them). */
export async function danglingIntents(logPath: string, app: string): Promise<AuditRecord[]> {
  const open = new Map<number, AuditRecord>();
  for await (const r of iterateAuditLog(logPath, { app })) {
    if (r.result === 'intent') open.set(r.seq, r);
    const completes = r.details?.['intent'];
    if (typeof completes === 'number') open.delete(completes);
  }
  return [...open.values()];
}

/**
 * The record that completes a dangling intent: each planned object as the cluster shows it
 * now. An apply reached it when Tether's Apply entry is at least as new as the intent; a
 * prune reached it when it is gone. The inventory's commit says whether the apply finished
 * (it is written last) and only its completion record was lost.
 */
export async function recoveryRecord(
  conn: Connection,
  intent: AuditRecord,
  inventoryNamespace: string,
): Promise<AuditInput> {
  const since = Math.floor(Date.parse(intent.time) / 1000) * 1000;
  const objects: AuditInput['objects'] = [];
  for (const o of intent.objects) {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    const info = await conn.discovery.lookup(group!, version!, o.kind);
    const live = info ? await conn.live.get(info, o.namespace, o.name) : undefined;
    const entries = (live?.metadata.managedFields ?? []) as {
      manager?: string;
      operation?: string;
      time?: string;
    }[];
    const applied = entries.find((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply');
    const { fields: _fields, ...rest } = o;
    if (o.action === 'planned-prune') objects.push({ ...rest, action: live ? 'skipped' : 'pruned' });
    else {
      // The planned values themselves tell best; managedFields times have one-second
      // resolution, so a write of the previous commit in the same second would look like ours.
      const byContent = live ? reachedByContent(o.fields ?? [], live) : false;
      const wrote =
        byContent ??
        (o.fields?.length
          ? applied?.time !== undefined && Date.parse(applied.time) >= since
          : live !== undefined);
      objects.push({ ...rest, action: wrote ? 'configured' : 'skipped' });
    }
  }
  const reached = objects.filter((o) => o.action !== 'skipped').length;
  const inventory = await readInventory(conn, intent.app, inventoryNamespace);
  const finished = inventory?.commit !== undefined && inventory.commit === intent.commit?.sha;
  return {
    app: intent.app,
    commit: intent.commit,
    trigger: intent.trigger,
    mode: 'apply',
    result: 'recovered',
    objects,
    error:
      `the process that wrote intent seq ${intent.seq} stopped before recording its outcome; ` +
      `${reached} of its ${objects.length} planned write(s) reached the cluster` +
      (finished ? '; the apply had finished (the inventory records this commit)' : ''),
    details: { intent: intent.seq, inventoryCommit: inventory?.commit ?? null },
  };
}

/**
 * Whether the live object holds every value the intent planned (a removal: the field is
 * absent); undefined when no planned value can be compared (none, masked Secret values, or a
 * path that does not parse).
 */
function reachedByContent(fields: readonly AuditField[], live: Record<string, unknown>): boolean | undefined {
  let compared = 0;
  for (const f of fields) {
    if (f.desired === MASK || f.desired === MASK_CHANGED) continue;
    let path;
    try {
      path = parsePath(f.path);
    } catch {
      continue;
    }
    compared++;
    const now = valueAt(live, path);
    const holds = f.desired === null ? !now.found : now.found && deepEqual(now.value, f.desired);
    if (!holds) return false;
  }
  return compared > 0 ? true : undefined;
}

/** Completes every dangling intent of the app in the log (before the app's next reconcile writes). */
export async function recoverIntents(
  log: AuditAppender,
  conn: Connection,
  app: string,
  inventoryNamespace: string,
): Promise<number> {
  const dangling = await danglingIntents(log.path, app);
  for (const intent of dangling) await log.append(await recoveryRecord(conn, intent, inventoryNamespace));
  return dangling.length;
}
