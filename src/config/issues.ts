/** Turns zod issues into messages a person can act on: what was expected, what was found. */
import { z } from 'zod';
import type { core } from 'zod';
import type { KeyPath } from './positions.ts';
import { isRecord } from '../util/object.ts';

export interface PathIssue {
  path: KeyPath;
  /** Point at the key rather than the value (unknown keys). */
  key?: boolean;
  message: string;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

/** Keys whose values are strings with a syntax of their own, described by what they mean. */
const EXPECTED_BY_KEY: Record<string, string> = {
  interval: 'a duration such as 30s or 1m',
  listen: 'host:port',
};

/** Keys that people try and must not use, with what to do instead. */
const KEY_HINTS: Record<string, string> = {
  secret: 'secrets never go in this file: use secretFile or secretEnv',
  password: 'secrets never go in this file: use passwordFile',
  username: 'use usernameFile',
  sshKey: 'secrets never go in this file: use sshKeyFile',
  privateKey: 'secrets never go in this file: use sshKeyFile',
  token: 'secrets never go in this file: use tokenFile',
};

export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `the ${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

export function issueToPathIssues(issue: core.$ZodIssue, schema: z.ZodType, input?: unknown): PathIssue[] {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = objectKeysAt(schema, issue.path, input) ?? [];
      return issue.keys.map((k) => ({
        path: [...issue.path, k],
        key: true,
        message: `unknown key${unknownKeyHint(k, allowed)}; allowed keys: ${allowed.join(', ')}`,
      }));
    }
    case 'invalid_type': {
      const last = issue.path[issue.path.length - 1];
      const expected =
        (typeof last === 'string' ? EXPECTED_BY_KEY[last] : undefined) ??
        EXPECTED[issue.expected] ??
        issue.expected;
      if (issue.input === undefined)
        return [{ path: issue.path, message: `missing required key (${expected})` }];
      if (issue.path.length === 0)
        return [
          { path: issue.path, message: `expected a mapping of settings, got ${describeValue(issue.input)}` },
        ];
      return [{ path: issue.path, message: `expected ${expected}, got ${describeValue(issue.input)}` }];
    }
    case 'invalid_value':
      return [
        {
          path: issue.path,
          message: `${JSON.stringify(issue.input)} is not allowed; use one of: ${issue.values.map(String).join(', ')}`,
        },
      ];
    default:
      // Every other check in schema.ts carries its own message.
      return [{ path: issue.path, message: issue.message }];
  }
}

function unknownKeyHint(key: string, allowed: string[]): string {
  const hint = KEY_HINTS[key];
  if (hint && !allowed.includes(key)) return ` (${hint})`;
  const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase() || editDistance(a, key) <= 2);
  return near ? ` (did you mean ${near}?)` : '';
}

/** The keys of the strict object `path` leads to in `schema`. */
export function objectKeysAt(schema: z.ZodType, path: KeyPath, input?: unknown): string[] | undefined {
  let s: unknown = schema;
  let value = input;
  const pick = (u: unknown) => (u instanceof z.ZodDiscriminatedUnion ? optionFor(u, value) : u);
  for (const seg of path) {
    s = pick(unwrap(s));
    value =
      (isRecord(value) || Array.isArray(value)) && typeof seg !== 'symbol'
        ? (value as Record<string | number, unknown>)[seg]
        : undefined;
    if (s instanceof z.ZodArray && typeof seg === 'number') s = s.element;
    else if (s instanceof z.ZodObject && typeof seg === 'string')
      s = (s.shape as Record<string, unknown>)[seg];
    else return undefined;
  }
  s = pick(unwrap(s));
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

/** The option of a discriminated union that the value's discriminator selects. */
function optionFor(u: z.ZodDiscriminatedUnion, value: unknown): unknown {
  const key = u.def.discriminator;
  const tag = isRecord(value) ? value[key] : undefined;
  return u.options.find((o) => {
    const field = o instanceof z.ZodObject ? (o.shape as Record<string, unknown>)[key] : undefined;
    return field instanceof z.ZodLiteral && field.values.has(tag as never);
  });
}

function unwrap(s: unknown): unknown {
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) s = s.unwrap();
    else if (s instanceof z.ZodPipe) s = s.in;
    else return s;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diag + cost);
      diag = up;
    }
  }
  return row[b.length] ?? 0;
}
