import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DuplicateKeyError,
  InvalidObjectError,
  ManifestErrors,
  NamespaceNotAllowedError,
  UnrepresentableValueError,
  formatId,
  loadManifests,
  objectKey,
} from '../../../src/manifests/index.ts';
import { canonicalJson } from '../../../src/manifests/canonical.ts';
import { configMap, kubeObject, namespace, toYaml } from '../../support/objects.ts';
import { COMMIT, SHORT, errorsOf, file } from './helpers.ts';

/** `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: <name>\n` (four lines), then `extra`. */
const cm = (name: string, extra = '') => `${toYaml(configMap({ name }))}${extra}`;

describe('loadManifests', () => {
  it('returns identity, source and object, ordered by path then position', () => {
    const manifests = loadManifests(
      [
        file('b.yaml', `${cm('b1')}---\n${cm('b2')}`),
        file('a/z.yml', cm('az')),
        file('README.md', 'not: [a manifest'),
        file(
          'a.json',
          JSON.stringify(kubeObject('apps/v1', 'Deployment', { name: 'web', namespace: 'shop' })),
        ),
      ],
      { commit: COMMIT },
    );
    expect(manifests.map((m) => [m.source.file, m.source.line, m.source.column, m.id.name])).toEqual([
      ['a.json', 1, 1, 'web'],
      ['a/z.yml', 1, 1, 'az'],
      ['b.yaml', 1, 1, 'b1'],
      ['b.yaml', 6, 1, 'b2'],
    ]);
    expect(manifests[0]?.id).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
    });
    expect(manifests[2]?.id).toEqual({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      namespace: '',
      name: 'b1',
    });
  });

  it('digests the canonical JSON (sorted keys) of the object', () => {
    const [a] = loadManifests([file('a.yaml', cm('x', 'data: {b: "2", a: "1"}\n'))], { commit: COMMIT });
    const [b] = loadManifests([file('b.yaml', `data: {a: "1", b: "2"}\n${cm('x')}`)], { commit: COMMIT });
    expect(a?.digest).toBe(b?.digest);
    const expected = createHash('sha256')
      .update('{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"x"}}')
      .digest('hex');
    expect(a?.digest).toBe(expected);
    const [c] = loadManifests([file('c.yaml', cm('x', 'data: {a: "1", b: "3"}\n'))], { commit: COMMIT });
    expect(c?.digest).not.toBe(a?.digest);
  });

  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }, 'x'], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1},"x"]}');
  });

  it('objectKey and formatId', () => {
    const deploy = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' };
    const ns = { group: '', version: 'v1', kind: 'Namespace', namespace: '', name: 'shop' };
    expect(objectKey(deploy)).toBe('apps/Deployment/shop/web');
    expect(objectKey(ns)).toBe('/Namespace//shop');
    expect(objectKey({ ...deploy, version: 'v1beta2' })).toBe(objectKey(deploy));
    expect(formatId(deploy)).toBe('apps/v1 Deployment shop/web');
    expect(formatId(ns)).toBe('v1 Namespace shop');
  });

  it('points List items at their own lines', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n- ${cm('one').replaceAll('\n', '\n  ')}\n- ${cm('two').replaceAll('\n', '\n  ')}`;
    const manifests = loadManifests([file('l.yaml', text)], { commit: COMMIT });
    expect(manifests.map((m) => [m.id.name, m.source.line, m.source.column])).toEqual([
      ['one', 4, 3],
      ['two', 9, 3], // cm() ends in a newline, which leaves a blank line between the items
    ]);
  });

  it('points errors inside List items at the item field', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n- ${cm('one').replaceAll('\n', '\n  ')}\n- ${cm('Two').replaceAll('\n', '\n  ')}`;
    const err = errorsOf(() => loadManifests([file('l.yaml', text)], { commit: COMMIT }));
    expect(err.errors.map((e) => e.message)).toEqual([
      `l.yaml:12:11 (commit ${SHORT}): metadata.name "Two" must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
    ]);
  });

  it('reports every error of every file together, sorted by place', () => {
    const err = errorsOf(() =>
      loadManifests(
        [file('b.yaml', cm('B')), file('a.yaml', 'kind: [x'), file('c.yaml', `${cm('ok')}---\nhello\n`)],
        { commit: COMMIT },
      ),
    );
    expect(err).toBeInstanceOf(ManifestErrors);
    expect(err.errors.map((e) => `${e.location.file}:${e.location.line}`)).toEqual([
      'a.yaml:1',
      'b.yaml:4',
      'c.yaml:6',
    ]);
    expect(err.message.split('\n')[0]).toBe(`3 errors in the manifests of commit ${SHORT}:`);
    expect(err.commit).toBe(COMMIT);
  });

  it('reads mapping keys like sigs.k8s.io/yaml, so `yes:` and "true": collide', () => {
    const err = errorsOf(() =>
      loadManifests([file('k.yaml', cm('k', 'data:\n  yes: a\n  "true": b\n'))], { commit: COMMIT }),
    );
    expect(err.errors[0]).toBeInstanceOf(DuplicateKeyError);
    expect(err.errors[0]?.message).toBe(
      `k.yaml:7:3 (commit ${SHORT}): duplicate key "true" in the mapping at .data`,
    );
  });

  it('refuses big integers in JSON too, naming the field', () => {
    const json =
      '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"n":[1, 12345678901234567890]}}';
    const err = errorsOf(() => loadManifests([file('w.json', json)], { commit: COMMIT }));
    expect(err.errors[0]).toBeInstanceOf(UnrepresentableValueError);
    expect(err.errors[0]?.message).toBe(
      `w.json:1:${json.indexOf('12345678901234567890') + 1} (commit ${SHORT}): the integer at .spec.n[1] is beyond ±2^53 and would lose precision`,
    );
  });

  it('keeps 2^53 - 1 and refuses 2^53 + 1', () => {
    const ok = loadManifests(
      [file('a.yaml', cm('a', 'spec: {count: 9007199254740991, neg: -9007199254740991}\n'))],
      {
        commit: COMMIT,
      },
    );
    expect(ok[0]?.object['spec']).toEqual({ count: 9007199254740991, neg: -9007199254740991 });
    expect(() =>
      loadManifests([file('a.yaml', cm('a', 'spec: {count: 9007199254740993}\n'))], { commit: COMMIT }),
    ).toThrow(/\.spec\.count is beyond/);
    expect(() =>
      loadManifests([file('a.yaml', cm('a', 'spec: {count: -0x20000000000001}\n'))], { commit: COMMIT }),
    ).toThrow(/\.spec\.count is beyond/);
  });

  it('reads the key `n` as false, as Kubernetes does (YAML 1.1 boolean)', () => {
    const [m] = loadManifests([file('a.yaml', cm('a', 'spec: {n: 1, y: 2}\n'))], { commit: COMMIT });
    expect(m?.object['spec']).toEqual({ false: 1, true: 2 });
  });

  it('stores a "__proto__" key as data, not as a prototype', () => {
    const [m] = loadManifests([file('p.yaml', cm('p', 'data:\n  __proto__: x\n'))], { commit: COMMIT });
    const data = m?.object['data'] as Record<string, unknown>;
    expect(Object.keys(data)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
    expect(JSON.stringify(data)).toBe('{"__proto__":"x"}');
  });

  it('accepts names Kubernetes accepts for RBAC, CSRs and custom resources', () => {
    const docs = [
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: "system:tether:viewer"}\n',
      'apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: "Node CSR"}\n',
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: "Mixed.Case"}\n',
    ];
    const manifests = loadManifests([file('n.yaml', docs.join('---\n'))], { commit: COMMIT });
    expect(manifests.map((m) => m.id.name)).toEqual(['system:tether:viewer', 'Node CSR', 'Mixed.Case']);
  });

  it('treats a Namespace outside allowedNamespaces as an error, and allows the listed ones', () => {
    const ns = (name: string) => toYaml(namespace({ name }));
    const opts = { commit: COMMIT, allowedNamespaces: ['shop'] };
    expect(
      loadManifests([file('ns.yaml', `${ns('shop')}---\n${cm('c', '  namespace: shop\n')}`)], opts),
    ).toHaveLength(2);
    const err = errorsOf(() => loadManifests([file('ns.yaml', ns('prod'))], opts));
    expect(err.errors[0]).toBeInstanceOf(NamespaceNotAllowedError);
    // Objects without a namespace are defaulted later (to the app's namespace), so they pass here.
    expect(loadManifests([file('c.yaml', cm('c'))], opts)).toHaveLength(1);
  });

  it('checks the total size of annotations', () => {
    const big = 'v'.repeat(128 * 1024);
    const ok = cm('a', `  annotations:\n    a.example.com/one: ${big}\n`);
    expect(loadManifests([file('a.yaml', ok)], { commit: COMMIT })).toHaveLength(1);
    const tooBig = cm('a', `  annotations:\n    a.example.com/one: ${big}\n    a.example.com/two: ${big}\n`);
    const err = errorsOf(() => loadManifests([file('a.yaml', tooBig)], { commit: COMMIT }));
    expect(err.errors.map((e) => e.message)).toEqual([
      `a.yaml:6:5 (commit ${SHORT}): annotations total 262178 bytes, more than Kubernetes allows (262144)`,
    ]);
  });

  it('never shows annotation values or Secret data in errors', () => {
    const secret =
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations: {a.example.com/x: [hunter2]}\ndata: {password: [hunter2]}\n';
    const err = errorsOf(() => loadManifests([file('s.yaml', secret)], { commit: COMMIT }));
    expect(err.errors).toHaveLength(2);
    expect(err.message).not.toContain('hunter2');
    expect(err.errors.every((e) => e instanceof InvalidObjectError)).toBe(true);
  });

  it('strips a UTF-8 byte order mark', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(cm('bom'))]);
    expect(loadManifests([file('bom.yaml', bom)], { commit: COMMIT })[0]?.id.name).toBe('bom');
  });

  it('points a UTF-8 error at the bad byte, after multi-byte characters', () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode(cm('u', 'data: {a: "é')),
      0xc3,
      0x28,
      0x22,
      0x7d,
      0x0a,
    ]);
    const err = errorsOf(() => loadManifests([file('u.yaml', bytes)], { commit: COMMIT }));
    expect(err.errors[0]?.message).toBe(`u.yaml:5:13 (commit ${SHORT}): the file is not valid UTF-8`);
  });
});

describe('!!binary', () => {
  it('is the decoded text, once (as Kubernetes reads it), in values and keys', () => {
    const [m] = loadManifests(
      [
        file(
          'a.yaml',
          'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  a: !!binary aGVsbG8gd29ybGQ=\n  !!binary a2V5: plain\n',
        ),
      ],
      { commit: COMMIT },
    );
    expect(m!.object.data).toEqual({ a: 'hello world', key: 'plain' });
  });
});
