/**
 * The audit log as the status page reads it: the whole chain verified once, then only the
 * lines appended since (the log only grows), so a page that follows a busy agent costs one
 * read of the new lines per change, whatever the size of the log. The last AUDIT_WINDOW
 * records are kept for display, with their hashes to check the cluster's anchors against.
 */
import { AuditNotFoundError, type AuditRecord } from '../../audit/index.ts';
import { EMPTY_HEAD, type ChainHead } from '../../audit/chain.ts';
import { scanChain, snapshotSize, TORN_REASON, type ScanResume } from '../../audit/verify.ts';
import type { ChainView } from '../shared/api.ts';
import { chainIdOf } from '../../cluster/audit-anchor.ts';

/** Records kept for the page: the newest ones. */
export const AUDIT_WINDOW = 1000;

export interface AuditSnapshot {
  chain: ChainView;
  /** The newest records (at most AUDIT_WINDOW), oldest first. */
  records: readonly AuditRecord[];
  /** hash of each record kept, by seq. */
  hashes: ReadonlyMap<number, string>;
}

const START: ScanResume = { offset: 0, line: 1, head: EMPTY_HEAD };

export class AuditWindow {
  private readonly path: string;
  private resume: ScanResume = START;
  private size = -1;
  private total = 0;
  private first: string | undefined;
  private problem: ChainView['problem'];
  private records: AuditRecord[] = [];
  private hashes = new Map<number, string>();
  private reading: Promise<void> | undefined;
  private readonly window: number;

  constructor(path: string, window = AUDIT_WINDOW) {
    this.path = path;
    this.window = window;
  }

  /** Reads what was appended since the last call (one reader at a time) and returns the state. */
  async read(): Promise<AuditSnapshot> {
    while (this.reading) await this.reading;
    this.reading = this.catchUp().finally(() => (this.reading = undefined));
    await this.reading;
    const head: ChainHead = this.resume.head;
    return {
      chain: {
        ok: this.problem === undefined,
        records: this.total,
        head,
        ...(this.problem ? { problem: this.problem } : {}),
        chain: this.first ? chainIdOf(this.first) : null,
      },
      records: this.records,
      hashes: this.hashes,
    };
  }

  private async catchUp(): Promise<void> {
    let size: number;
    try {
      size = await snapshotSize(this.path);
    } catch (e) {
      if (!(e instanceof AuditNotFoundError)) throw e;
      size = 0;
    }
    if (size === this.size) return;
    // Shorter than what was read (replaced, or a torn tail cut off and nothing new yet), or a
    // broken chain that changed (repaired by hand): read it again from the start.
    if (size < this.resume.offset || (this.problem && this.problem.reason !== TORN_REASON)) this.reset();
    this.problem = undefined;
    this.size = size;
    for await (const event of scanChain(this.path, size, this.resume)) {
      if (event.kind === 'record') {
        const { record } = event;
        this.resume = {
          offset: event.next,
          line: event.line + 1,
          head: { seq: record.seq, hash: record.hash },
        };
        this.first ??= record.hash;
        this.total++;
        this.records.push(record);
        this.hashes.set(record.seq, record.hash);
        if (this.records.length > this.window) {
          const dropped = this.records.splice(0, this.records.length - this.window);
          for (const d of dropped) this.hashes.delete(d.seq);
        }
      } else {
        this.problem = { line: event.line, reason: event.kind === 'torn' ? TORN_REASON : event.reason };
      }
    }
  }

  private reset(): void {
    this.resume = START;
    this.total = 0;
    this.first = undefined;
    this.records = [];
    this.hashes = new Map();
  }
}
