import { describe, expect, it } from 'vitest';
import type { Path } from '../../../src/fieldset/index.ts';
import {
  FieldPathError,
  compareElements,
  formatPath,
  parsePath,
  parsePathPattern,
  patternCovers,
} from '../../../src/fieldset/index.ts';

describe('formatPath', () => {
  it('writes simple fields with dots and other names JSON-quoted in brackets', () => {
    expect(formatPath([{ field: 'spec' }, { field: 'replicas' }])).toBe('.spec.replicas');
    expect(
      formatPath([{ field: 'metadata' }, { field: 'labels' }, { field: 'app.kubernetes.io/name' }]),
    ).toBe('.metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath([{ field: 'data' }, { field: 'config.yaml' }])).toBe('.data["config.yaml"]');
    expect(formatPath([{ field: '9lives' }])).toBe('["9lives"]');
    expect(formatPath([{ field: '-x' }])).toBe('["-x"]');
    expect(formatPath([{ field: '' }])).toBe('[""]');
    expect(formatPath([{ field: 'a"b' }])).toBe('["a\\"b"]');
    expect(formatPath([{ field: 'max-surge_2' }])).toBe('.max-surge_2');
  });

  it('writes key items in key order, numbers bare, ambiguous strings quoted', () => {
    const p: Path = [
      { field: 'spec' },
      { field: 'template' },
      { field: 'spec' },
      { field: 'containers' },
      { key: { name: 'web' } },
      { field: 'image' },
    ];
    expect(formatPath(p)).toBe('.spec.template.spec.containers[name=web].image');
    expect(formatPath([{ field: 'ports' }, { key: { containerPort: 80, protocol: 'TCP' } }])).toBe(
      '.ports[containerPort=80,protocol=TCP]',
    );
    expect(formatPath([{ key: { port: '80' } }])).toBe('[port="80"]');
    expect(formatPath([{ key: { name: 'true' } }])).toBe('[name="true"]');
    expect(formatPath([{ key: { name: 'my app' } }])).toBe('[name="my app"]');
    expect(formatPath([{ key: { mountPath: '/var/run/x' } }])).toBe('[mountPath=/var/run/x]');
    expect(formatPath([{ key: { ip: '10.0.0.1' } }])).toBe('[ip=10.0.0.1]');
    expect(formatPath([{ key: { 'a.b': 'x' } }])).toBe('["a.b"=x]');
  });

  it('writes set items as [=value] and positions as [N]', () => {
    expect(
      formatPath([{ field: 'metadata' }, { field: 'finalizers' }, { value: 'example.com/protect' }]),
    ).toBe('.metadata.finalizers[=example.com/protect]');
    expect(formatPath([{ field: 'args' }, { index: 3 }])).toBe('.args[3]');
    expect(formatPath([{ value: 8080 }])).toBe('[=8080]');
    expect(formatPath([{ value: 'a,b]' }])).toBe('[="a,b]"]');
    expect(formatPath([{ value: { b: 1, a: 2 } }])).toBe('[={"a":2,"b":1}]');
    expect(formatPath([])).toBe('.');
  });
});

describe('parsePath', () => {
  const roundTrip: Path[] = [
    [],
    [{ field: 'spec' }, { field: 'replicas' }],
    [{ field: 'metadata' }, { field: 'labels' }, { field: 'app.kubernetes.io/name' }],
    [{ field: 'a"b\\c' }, { field: 'ünï' }, { field: '' }],
    [{ field: 'ports' }, { key: { containerPort: 80, protocol: 'TCP' } }, { field: 'name' }],
    [{ key: { port: '80', x: true, y: null, z: 1.5 } }],
    [{ key: { name: 'a,b]=c' } }],
    [{ key: { 'weird key': 'v' } }],
    [{ field: 'finalizers' }, { value: 'example.com/protect' }],
    [{ value: '' }, { value: 'null' }, { value: 12 }, { value: false }, { value: [1, 'x'] }],
    [{ value: { a: 'x]' } }],
    [{ field: 'args' }, { index: 0 }, { index: 12 }],
    [{ key: {} }],
  ];
  it.each(roundTrip.map((p) => [formatPath(p), p] as const))('round-trips %s', (text, p) => {
    expect(parsePath(text)).toEqual(p);
    expect(formatPath(parsePath(text))).toBe(text);
  });

  it('keeps key order as written', () => {
    const p = parsePath('[protocol=TCP,containerPort=80]');
    expect(Object.keys((p[0] as { key: Record<string, unknown> }).key)).toEqual([
      'protocol',
      'containerPort',
    ]);
  });

  it('accepts a path without the leading dot', () => {
    expect(parsePath('spec.replicas')).toEqual([{ field: 'spec' }, { field: 'replicas' }]);
  });

  it.each([
    ['.spec..replicas', 'column 7'],
    ['.spec[', 'column 7'],
    ['.spec[name=web', 'column 15'],
    ['.spec[name=]', 'column 12'],
    ['.spec[name=a b]', 'column 12'],
    ['.spec["unterminated]', 'column 7'],
    ['.spec[*]', 'column 7'],
    ['.*', 'column 2'],
    ['.spec[name=a,name=b]', 'duplicate'],
    ['spec replicas', 'column 5'],
  ])('rejects %s', (text, where) => {
    expect(() => parsePath(text)).toThrow(FieldPathError);
    expect(() => parsePath(text)).toThrow(where);
  });
});

describe('path patterns', () => {
  const path = parsePath(
    '.spec.template.spec.containers[name=web].ports[containerPort=80,protocol=TCP].name',
  );
  it('cover descendants, match keys by subset and wildcards by element kind', () => {
    expect(patternCovers(parsePathPattern('.spec.template'), path)).toBe(true);
    expect(patternCovers(parsePathPattern('.spec.template.spec.containers[*].ports'), path)).toBe(true);
    expect(
      patternCovers(
        parsePathPattern('.spec.template.spec.containers[name=web].ports[containerPort=80]'),
        path,
      ),
    ).toBe(true);
    expect(patternCovers(parsePathPattern('.spec.*.spec'), path)).toBe(true);
    expect(patternCovers(parsePathPattern('.spec.template.spec.containers[name=api]'), path)).toBe(false);
    expect(patternCovers(parsePathPattern('.spec.template.spec.containers[0]'), path)).toBe(false);
    expect(patternCovers(parsePathPattern('.spec.template.spec.containers.*'), path)).toBe(false);
    expect(
      patternCovers(
        parsePathPattern('.spec.template.spec.containers[name=web].ports[containerPort=81]'),
        path,
      ),
    ).toBe(false);
    expect(
      patternCovers(
        parsePathPattern('.spec.template.spec.containers[name=web].ports[containerPort=80].name.x'),
        path,
      ),
    ).toBe(false);
  });
});

describe('compareElements', () => {
  it('orders fields, then keys, then values, then indexes numerically', () => {
    const els = [
      { index: 10 },
      { value: 'a' },
      { key: { name: 'a' } },
      { field: 'b' },
      { index: 2 },
      { field: 'a' },
    ];
    expect(els.sort(compareElements)).toEqual([
      { field: 'a' },
      { field: 'b' },
      { key: { name: 'a' } },
      { value: 'a' },
      { index: 2 },
      { index: 10 },
    ]);
  });
});
