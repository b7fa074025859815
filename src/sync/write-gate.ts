/**
 * The gate every write of a reconcile passes: `open` once before the first write, with what
 * the reconcile is about to change (the audit log's write-ahead intent record goes there),
 * and `check` before each write (a replica that may have lost its lease stops there). Either
 * throws to stop the reconcile before the write.
 */
import type { FieldDrift } from '../diff/index.ts';
import type { ObjectId } from '../manifests/index.ts';
import { failpoint } from '../util/failpoint.ts';

export interface PlannedWrite {
  id: ObjectId;
  action: 'apply' | 'prune';
  /** The fields that will change, with their live owners (empty for a new object). */
  fields: FieldDrift[];
}

export interface WriteGate {
  open(planned: PlannedWrite[]): Promise<void>;
  check(): void;
  /** Before each phase that writes (definitions, objects, prune, inventory); may read the lease. */
  checkpoint?(): Promise<void>;
}

/** Passes every write: for callers that record nothing (tests, benchmarks). */
export const OPEN_GATE: WriteGate = { open: async () => {}, check: () => {} };

/** Opens the gate at most once, on the first write; concurrent writers wait for the same opening. */
export class GateKeeper {
  private opening: Promise<void> | undefined;
  private readonly gate: WriteGate;
  private readonly planned: () => PlannedWrite[];

  constructor(gate: WriteGate, planned: () => PlannedWrite[]) {
    this.gate = gate;
    this.planned = planned;
  }

  /** True once the first write was announced (something may have been written since). */
  get opened(): boolean {
    return this.opening !== undefined;
  }

  private checked = new Set<string>();

  /** Before every write, naming its phase: the first write of a phase passes the checkpoint too. */
  async beforeWrite(phase: 'apply' | 'prune' | 'inventory' = 'apply'): Promise<void> {
    if (this.opening === undefined) failpoint('before-first-write');
    this.opening ??= this.gate.open(this.planned());
    await this.opening;
    if (!this.checked.has(phase)) {
      this.checked.add(phase);
      await this.gate.checkpoint?.();
    }
    this.gate.check();
  }
}
