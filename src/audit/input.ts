/**
 * Checks what a caller passes to `append` and rebuilds it from the contract's keys only, as plain
 * JSON data: unknown keys are not written, `undefined` field values become null (absent), and
 * values that JSON cannot hold are refused before anything touches the file.
 */
import { isRecord } from '../util/object.ts';
import { AuditInputError } from './errors.ts';
import { maskInput } from './mask.ts';
import {
  AUDIT_ACTIONS,
  AUDIT_MODES,
  AUDIT_RESULTS,
  AUDIT_TRIGGERS,
  type AuditCommit,
  type AuditField,
  type AuditInput,
  type AuditObject,
  type AuditOwner,
} from './record.ts';

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function fail(where: string, problem: string): never {
  throw new AuditInputError(`audit record: ${where} ${problem}; nothing was written`, {
    hint: 'this is a bug in the caller of the audit log: the record must follow the audit contract in DESIGN.md',
  });
}

function str(v: unknown, where: string, nonEmpty = false): string {
  if (typeof v !== 'string') fail(where, `is ${describe(v)}, expected a string`);
  if (nonEmpty && v === '') fail(where, 'is empty');
  return v;
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined ? undefined : str(v, where);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T {
  if (typeof v !== 'string') fail(where, `is ${describe(v)}, expected one of ${allowed.join(', ')}`);
  if (!(allowed as readonly string[]).includes(v)) fail(where, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function isoTime(v: unknown, where: string): string {
  const s = str(v, where);
  if (!/^\d{4}-\d\d-\d\dT/.test(s) || Number.isNaN(Date.parse(s))) fail(where, 'is not an ISO 8601 time');
  return s;
}

function sha(v: unknown, where: string): string {
  const s = str(v, where);
  if (!SHA.test(s)) fail(where, 'is not a full lowercase hex commit id (40 or 64 characters)');
  return s;
}

/** Type names only: any value may be a secret (even in the wrong key) and must not reach a message. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return v === '' ? 'empty' : 'a string';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Plain JSON data: undefined -> null, no functions, no bigint, no cycles. */
function jsonData(v: unknown, where: string): unknown {
  if (v === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    fail(where, `cannot be written as JSON (${(err as Error).message})`);
  }
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

function commitOf(v: unknown): AuditCommit | null {
  if (v === null) return null;
  if (!isRecord(v)) fail('commit', `is ${describe(v)}, expected {sha, author, message, time} or null`);
  return {
    sha: sha(v['sha'], 'commit.sha'),
    author: str(v['author'], 'commit.author'),
    message: str(v['message'], 'commit.message'),
    time: isoTime(v['time'], 'commit.time'),
  };
}

function ownerOf(v: unknown, where: string): AuditOwner {
  if (!isRecord(v)) fail(where, `is ${describe(v)}, expected {manager, operation, time}`);
  const owner: AuditOwner = {
    manager: str(v['manager'], `${where}.manager`),
    operation: oneOf(v['operation'], ['Apply', 'Update'] as const, `${where}.operation`),
  };
  const time = optStr(v['time'], `${where}.time`);
  if (time !== undefined) owner.time = time;
  const subresource = optStr(v['subresource'], `${where}.subresource`);
  if (subresource !== undefined) owner.subresource = subresource;
  return owner;
}

function fieldOf(v: unknown, where: string): AuditField {
  if (!isRecord(v)) fail(where, `is ${describe(v)}, expected {path, desired, live, owners}`);
  const owners = v['owners'];
  if (!Array.isArray(owners)) fail(`${where}.owners`, `is ${describe(owners)}, expected a list`);
  return {
    path: str(v['path'], `${where}.path`, true),
    desired: jsonData(v['desired'], `${where}.desired`),
    live: jsonData(v['live'], `${where}.live`),
    owners: owners.map((o, i) => ownerOf(o, `${where}.owners[${i}]`)),
  };
}

function objectOf(v: unknown, where: string): AuditObject {
  if (!isRecord(v)) fail(where, `is ${describe(v)}, expected {apiVersion, kind, namespace, name, action}`);
  const obj: AuditObject = {
    apiVersion: str(v['apiVersion'], `${where}.apiVersion`, true),
    kind: str(v['kind'], `${where}.kind`, true),
    namespace: str(v['namespace'], `${where}.namespace`),
    name: str(v['name'], `${where}.name`, true),
    action: oneOf(v['action'], AUDIT_ACTIONS, `${where}.action`),
  };
  const error = optStr(v['error'], `${where}.error`);
  if (error !== undefined) obj.error = error;
  const fields = v['fields'];
  if (fields !== undefined) {
    if (!Array.isArray(fields)) fail(`${where}.fields`, `is ${describe(fields)}, expected a list`);
    obj.fields = fields.map((f, i) => fieldOf(f, `${where}.fields[${i}]`));
  }
  return obj;
}

/** The validated, JSON-clean and Secret-masked body of a record. Throws AuditInputError. */
export function prepareInput(input: AuditInput): AuditInput {
  const v: unknown = input;
  if (!isRecord(v)) fail('input', `is ${describe(v)}, expected an object`);
  const objects = v['objects'];
  if (!Array.isArray(objects)) fail('objects', `is ${describe(objects)}, expected a list`);
  const body: AuditInput = {
    app: str(v['app'], 'app', true),
    commit: commitOf(v['commit']),
    trigger: oneOf(v['trigger'], AUDIT_TRIGGERS, 'trigger'),
    mode: oneOf(v['mode'], AUDIT_MODES, 'mode'),
    result: oneOf(v['result'], AUDIT_RESULTS, 'result'),
    objects: objects.map((o, i) => objectOf(o, `objects[${i}]`)),
  };
  const error = optStr(v['error'], 'error');
  if (error !== undefined) body.error = error;
  if (v['revertOf'] !== undefined) body.revertOf = sha(v['revertOf'], 'revertOf');
  const details = v['details'];
  if (details !== undefined) {
    if (!isRecord(details)) fail('details', `is ${describe(details)}, expected an object`);
    body.details = jsonData(details, 'details') as Record<string, unknown>;
  }
  return maskInput(body);
}
