/**
 * Reading one line back into a record. Strict about types (a line that lost a key or changed a
 * type was damaged), lenient about enum values, so a log written by a newer Tether with a new
 * result or action still reads and verifies.
 */
import { isRecord } from '../util/object.ts';
import type { AuditRecord } from './record.ts';

export type ParsedLine = { record: AuditRecord } | { reason: string };

const HEX64 = /^[0-9a-f]{64}$/;

function shapeProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not a JSON object';
  const { seq, time, app, commit, trigger, mode, result, objects, error, revertOf, details, prev, hash } = v;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)
    return 'seq is not a positive integer';
  if (typeof time !== 'string') return 'time is not a string';
  if (typeof app !== 'string') return 'app is not a string';
  if (commit !== null) {
    if (!isRecord(commit)) return 'commit is not an object';
    for (const k of ['sha', 'author', 'message', 'time'] as const) {
      if (typeof commit[k] !== 'string') return `commit.${k} is not a string`;
    }
  }
  if (typeof trigger !== 'string') return 'trigger is not a string';
  if (typeof mode !== 'string') return 'mode is not a string';
  if (typeof result !== 'string') return 'result is not a string';
  if (!Array.isArray(objects)) return 'objects is not a list';
  for (const [i, o] of objects.entries()) {
    if (!isRecord(o)) return `objects[${i}] is not an object`;
    for (const k of ['apiVersion', 'kind', 'namespace', 'name', 'action'] as const) {
      if (typeof o[k] !== 'string') return `objects[${i}].${k} is not a string`;
    }
    if (o['error'] !== undefined && typeof o['error'] !== 'string')
      return `objects[${i}].error is not a string`;
    if (o['fields'] !== undefined && !Array.isArray(o['fields'])) return `objects[${i}].fields is not a list`;
  }
  if (error !== undefined && typeof error !== 'string') return 'error is not a string';
  if (revertOf !== undefined && typeof revertOf !== 'string') return 'revertOf is not a string';
  if (details !== undefined && !isRecord(details)) return 'details is not an object';
  if (typeof prev !== 'string' || !HEX64.test(prev)) return 'prev is not a sha256 hex digest';
  if (typeof hash !== 'string' || !HEX64.test(hash)) return 'hash is not a sha256 hex digest';
  return undefined;
}

/** Parses a line (without its newline) into a record, or says what is wrong with it. */
export function parseRecordLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reason: 'invalid JSON' };
  }
  const problem = shapeProblem(value);
  return problem === undefined ? { record: value as AuditRecord } : { reason: `invalid record: ${problem}` };
}
