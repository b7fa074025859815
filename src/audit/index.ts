// The audit log: append-only, one JSON record per line, hash-chained, fsynced, safe against
// crashes mid-append and against several processes appending at once.
export { AuditLog, type AuditLogOptions } from './append.ts';
export { verifyAuditLog, TORN_REASON, type VerifyResult } from './verify.ts';
export { checkAnchors, parseHead, type AnchorCheck, type AnchoredHead } from './anchors.ts';
export { compileFilter, iterateAuditLog, readAuditLog, type AuditFilter, type ReadOptions } from './query.ts';
export { hashRecord, type ChainHead } from './chain.ts';
export {
  AUDIT_ACTIONS,
  AUDIT_GENESIS,
  AUDIT_MODES,
  AUDIT_RESULTS,
  AUDIT_TRIGGERS,
  canonicalJson,
  type AuditAction,
  type AuditCommit,
  type AuditField,
  type AuditInput,
  type AuditMode,
  type AuditObject,
  type AuditOwner,
  type AuditRecord,
  type AuditResult,
  type AuditTrigger,
  type RepairedTornLine,
} from './record.ts';
export {
  AuditChainError,
  AuditClosedError,
  AuditError,
  AuditFilterError,
  AuditInputError,
  AuditIoError,
  AuditLockError,
  AuditNotFoundError,
} from './errors.ts';
