/**
 * Reading records back, filtered, streaming. Every line is checked as verify checks it: a broken
 * chain throws (naming the line) rather than showing a history that may have been rewritten. A
 * torn last line is not an error (the next append repairs it) but is never skipped silently:
 * it goes to `onTornLine`.
 */
import { resolve } from 'node:path';
import { AuditChainError, AuditFilterError } from './errors.ts';
import type { AuditObject, AuditRecord } from './record.ts';
import { scanChain, snapshotSize } from './verify.ts';

export interface AuditFilter {
  /** Exact app name. */
  app?: string;
  /** Prefix of the commit sha (hex, any case). */
  commit?: string;
  /**
   * An object the record touched: `name`, `kind/name` or `namespace/kind/name` (kind compared
   * without case; use `/kind/name` for a cluster-scoped object only, as its namespace is '').
   */
  object?: string;
  /** Records appended at or after this time. */
  since?: Date;
  /** Records appended before this time (exclusive, so `since`/`until` ranges tile). */
  until?: Date;
  /** Exact result ('applied', 'drift-found'...). */
  result?: string;
}

export interface ReadOptions {
  /** Called once when the log ends with a torn line (an append that never completed). */
  onTornLine?: (torn: { line: number; bytes: number }) => void;
}

type Matcher = (record: AuditRecord) => boolean;

function objectMatcher(spec: string): (o: AuditObject) => boolean {
  const parts = spec.split('/');
  if (parts.some((p, i) => p === '' && !(i === 0 && parts.length === 3)) || parts.length > 3) {
    throw new AuditFilterError(
      `object filter ${JSON.stringify(spec)} is not name, kind/name or namespace/kind/name`,
      {
        hint: 'e.g. web, Deployment/web or shop/Deployment/web',
      },
    );
  }
  const [name, kind, namespace] = [...parts].reverse() as [string, string | undefined, string | undefined];
  const lowerKind = kind?.toLowerCase();
  return (o) =>
    o.name === name &&
    (lowerKind === undefined || o.kind.toLowerCase() === lowerKind) &&
    (namespace === undefined || o.namespace === namespace);
}

function timeOf(d: Date, key: string): number {
  const t = d instanceof Date ? d.getTime() : NaN;
  if (Number.isNaN(t))
    throw new AuditFilterError(`${key} is not a valid date`, { hint: 'use an ISO 8601 time' });
  return t;
}

/** Compiles a filter into a predicate; throws AuditFilterError on a filter that cannot match sensibly. */
export function compileFilter(filter: AuditFilter = {}): Matcher {
  const tests: Matcher[] = [];
  const { app, commit, object, since, until, result } = filter;
  if (app !== undefined) tests.push((r) => r.app === app);
  if (result !== undefined) tests.push((r) => r.result === result);
  if (commit !== undefined) {
    if (!/^[0-9a-fA-F]+$/.test(commit)) {
      throw new AuditFilterError(`commit filter ${JSON.stringify(commit)} is not a hex sha prefix`, {
        hint: 'give the first characters of the commit sha, e.g. 3f2a9c1; or add --repo to read it as a git revision (HEAD~1, a tag)',
      });
    }
    const prefix = commit.toLowerCase();
    tests.push((r) => r.commit !== null && r.commit.sha.startsWith(prefix));
  }
  if (object !== undefined) {
    const match = objectMatcher(object);
    tests.push((r) => r.objects.some(match));
  }
  if (since !== undefined) {
    const t = timeOf(since, 'since');
    tests.push((r) => Date.parse(r.time) >= t);
  }
  if (until !== undefined) {
    const t = timeOf(until, 'until');
    tests.push((r) => Date.parse(r.time) < t);
  }
  return (r) => tests.every((test) => test(r));
}

/** Streams the records of the log at `path` that match `filter`, oldest first. */
export async function* iterateAuditLog(
  path: string,
  filter?: AuditFilter,
  options: ReadOptions = {},
): AsyncGenerator<AuditRecord> {
  const matches = compileFilter(filter);
  const abs = resolve(path);
  const size = await snapshotSize(abs);
  for await (const event of scanChain(abs, size)) {
    if (event.kind === 'record') {
      if (matches(event.record)) yield event.record;
    } else if (event.kind === 'torn') {
      options.onTornLine?.({ line: event.line, bytes: event.bytes });
    } else {
      throw new AuditChainError(`audit log ${abs} is damaged: ${event.reason}`, {
        hint: `run \`tether audit verify --audit-log ${abs}\` and keep the file as it is for investigation`,
      });
    }
  }
}

/** The records of the log at `path` that match `filter`, oldest first (see iterateAuditLog). */
export async function readAuditLog(
  path: string,
  filter?: AuditFilter,
  options?: ReadOptions,
): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const record of iterateAuditLog(path, filter, options)) out.push(record);
  return out;
}
