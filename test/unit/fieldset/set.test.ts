import { describe, expect, it } from 'vitest';
import type { Path } from '../../../src/fieldset/index.ts';
import {
  FieldSet,
  ManagedFieldsError,
  formatPath,
  parsePath,
  fieldSetFromObject,
} from '../../../src/fieldset/index.ts';
import { fixture } from './load-fixture.ts';

const set = (...paths: string[]): FieldSet => FieldSet.fromPaths(paths.map(parsePath));
const show = (paths: Path[]): string[] => paths.map(formatPath);

describe('FieldSet.fromFieldsV1', () => {
  const trie = {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:containers': {
        'k:{"name":"web"}': {
          '.': {},
          'f:name': {},
          'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
        },
      },
      'f:args': { 'i:2': {} },
    },
    'f:metadata2': { 'f:finalizers': { '.': {}, 'v:"example.com/x"': {} } },
  };

  it('reads members, "." markers, and every element kind', () => {
    const s = FieldSet.fromFieldsV1(trie);
    expect(show(s.paths())).toEqual([
      '.metadata.labels.app',
      '.metadata2.finalizers',
      '.metadata2.finalizers[=example.com/x]',
      '.spec.args[2]',
      '.spec.containers[name=web]',
      '.spec.containers[name=web].name',
      '.spec.containers[name=web].ports[containerPort=80,protocol=TCP]',
      '.spec.containers[name=web].ports[containerPort=80,protocol=TCP].containerPort',
    ]);
    expect(s.size).toBe(8);
    expect(s.has(parsePath('.spec.containers[name=web]'))).toBe(true);
    expect(s.has(parsePath('.spec.containers'))).toBe(false);
    expect(s.has(parsePath('.metadata.labels'))).toBe(false);
    expect(s.hasPrefix(parsePath('.metadata.labels'))).toBe(true);
    expect(s.hasPrefix(parsePath('.metadata.annotations'))).toBe(false);
  });

  it('leaves() skips members with members below them', () => {
    const s = FieldSet.fromFieldsV1(trie);
    expect(show(s.leaves())).toEqual([
      '.metadata.labels.app',
      '.metadata2.finalizers[=example.com/x]',
      '.spec.args[2]',
      '.spec.containers[name=web].name',
      '.spec.containers[name=web].ports[containerPort=80,protocol=TCP].containerPort',
    ]);
  });

  it('round-trips through toFieldsV1 (key order of the server: "." first, sorted)', () => {
    const s = FieldSet.fromFieldsV1(trie);
    const out = s.toFieldsV1();
    expect(out).toEqual(trie);
    expect(JSON.stringify(FieldSet.fromFieldsV1(out).toFieldsV1())).toBe(JSON.stringify(out));
    expect(Object.keys((out['f:spec'] as Record<string, unknown>)['f:containers'] as object)).toEqual([
      'k:{"name":"web"}',
    ]);
    const item = (
      (out['f:spec'] as Record<string, Record<string, unknown>>)['f:containers'] as Record<string, unknown>
    )['k:{"name":"web"}'] as Record<string, unknown>;
    expect(Object.keys(item)).toEqual(['.', 'f:name', 'f:ports']);
  });

  it('canonicalises key field order: k:{"b":1,"a":2} and k:{"a":2,"b":1} are one element', () => {
    const a = FieldSet.fromFieldsV1({ 'k:{"b":1,"a":2}': {} });
    const b = FieldSet.fromFieldsV1({ 'k:{"a":2,"b":1}': {} });
    expect(a.equals(b)).toBe(true);
    expect(Object.keys(a.toFieldsV1())).toEqual(['k:{"a":2,"b":1}']);
  });

  it('reads every fixture entry and writes it back unchanged', () => {
    for (const name of [
      'deployment-web.live',
      'deployment-web.dryrun',
      'service-web.live',
      'secret-db.live',
    ]) {
      const md = fixture(name)['metadata'] as { managedFields: { fieldsV1: Record<string, unknown> }[] };
      for (const entry of md.managedFields) {
        expect(FieldSet.fromFieldsV1(entry.fieldsV1).toFieldsV1()).toEqual(entry.fieldsV1);
      }
    }
  });

  it.each([
    [[], 'expected a JSON object'],
    [{ 'x:foo': {} }, 'expected a prefix'],
    [{ 'f:spec': { 'k:["a"]': {} } }, 'must be a JSON object'],
    [{ 'f:spec': { 'k:{bad': {} } }, 'not valid JSON'],
    [{ 'f:spec': { 'i:-1': {} } }, 'non-negative integer'],
    [{ 'f:spec': true }, 'is not an object'],
  ])('rejects malformed fieldsV1 %j', (json, msg) => {
    expect(() => FieldSet.fromFieldsV1(json)).toThrow(ManagedFieldsError);
    expect(() => FieldSet.fromFieldsV1(json)).toThrow(msg);
  });
});

describe('set operations', () => {
  const a = set('.a', '.b.c', '.b.d', '.l[name=x]', '.l[name=x].v');
  const b = set('.b.c', '.b.e', '.l[name=x].v', '.z');

  it('union', () => {
    expect(show(a.union(b).paths())).toEqual([
      '.a',
      '.b.c',
      '.b.d',
      '.b.e',
      '.l[name=x]',
      '.l[name=x].v',
      '.z',
    ]);
  });
  it('intersection', () => {
    expect(show(a.intersection(b).paths())).toEqual(['.b.c', '.l[name=x].v']);
  });
  it('difference is path by path (removing an item keeps its fields)', () => {
    expect(show(a.difference(b).paths())).toEqual(['.a', '.b.d', '.l[name=x]']);
    expect(show(a.difference(set('.l[name=x]')).paths())).toEqual(['.a', '.b.c', '.b.d', '.l[name=x].v']);
  });
  it('operations leave their inputs unchanged and drop empty branches', () => {
    const before = a.toString();
    a.union(b);
    a.difference(b);
    expect(a.toString()).toBe(before);
    const empty = set('.b.c').difference(set('.b.c'));
    expect(empty.isEmpty()).toBe(true);
    expect(empty.toFieldsV1()).toEqual({});
    expect(empty.size).toBe(0);
  });
  it('at() returns the subtree below a path', () => {
    expect(show(a.at(parsePath('.b')).paths())).toEqual(['.c', '.d']);
    expect(a.at(parsePath('.nope')).isEmpty()).toBe(true);
  });
});

describe('fieldSetFromObject', () => {
  it('makes scalars, lists and empty objects leaves', () => {
    const s = fieldSetFromObject({ spec: { replicas: 2, args: ['a'], sc: {}, m: { x: null } } });
    expect(show(s.leaves())).toEqual(['.spec.args', '.spec.m.x', '.spec.replicas', '.spec.sc']);
  });
});
