// One error class per failure kind of the audit log. Messages name the log file and, for a
// damaged chain, the line; hints say what to do next. No message ever carries a record's values.
import { TetherError } from '../errors.ts';

/** Base of every error raised by `src/audit`. */
export class AuditError extends TetherError {}

/** A caller passed a record that does not follow the audit contract; nothing was written. */
export class AuditInputError extends AuditError {}

/** The hash chain is broken (tampering or corruption): appending would build on a bad history. */
export class AuditChainError extends AuditError {}

/** Another process has held the log's lock for longer than we are willing to wait. */
export class AuditLockError extends AuditError {}

/** The audit log file does not exist (verify and read never create it). */
export class AuditNotFoundError extends AuditError {}

/** A query filter that cannot work (bad date, non-hex commit prefix, malformed object name). */
export class AuditFilterError extends AuditError {}

/** append() after close(). */
export class AuditClosedError extends AuditError {}

/** Writing, syncing or reading the file failed (disk full, permissions...). */
export class AuditIoError extends AuditError {}
