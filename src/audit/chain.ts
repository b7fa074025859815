/**
 * The hash chain: each record's `hash` covers the record itself including `prev`, the previous
 * record's hash, so changing, removing or reordering any line breaks the chain from there on.
 */
import { createHash } from 'node:crypto';
import { AUDIT_GENESIS, canonicalJson, type AuditRecord } from './record.ts';

/** The end of a chain: the last record's seq and hash (0 and genesis for an empty log). */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: AUDIT_GENESIS };

/** sha256 hex over the canonical JSON of the record without its `hash` key. */
export function hashRecord(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { hash: _hash, ...rest } = record as AuditRecord;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/**
 * Why `record` cannot follow `head`, or undefined when it can. The record's own hash is checked
 * first (a changed line), then its seq (a removed or inserted line), then its link.
 */
export function chainProblem(head: ChainHead, record: AuditRecord): string | undefined {
  if (hashRecord(record) !== record.hash) return 'hash mismatch (the line was changed)';
  // The seq of a torn line that was cut off is skipped, and the record says so.
  const torn = (record.details?.['repairedTornLine'] as { seq?: unknown } | undefined)?.seq;
  const expected = typeof torn === 'number' && torn > head.seq ? torn + 1 : head.seq + 1;
  if (record.seq !== expected) {
    return `seq gap (expected seq ${head.seq + 1}, found ${record.seq}: a line was removed, inserted or reordered)`;
  }
  if (record.prev !== head.hash) return 'prev mismatch (the previous line was changed, removed or replaced)';
  return undefined;
}
