import { describe, expect, it } from 'vitest';
import { ManifestErrors, InvalidObjectError } from '../../../src/manifests/index.ts';
import {
  maskError,
  maskerOf,
  noMasking,
  secretMasker,
  secretMaterial,
} from '../../../src/manifests/secret-masking.ts';
import { COMMIT, file } from './helpers.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A masker over these files, checked to hide `secret` in every form a message may quote. */
function hides(files: ReturnType<typeof file>[], secret: string, objects: unknown[] = []): void {
  const mask = secretMasker(files, objects);
  for (const form of [secret, b64(secret), JSON.stringify(secret)]) {
    const text = `refused: Invalid value: ${form} (at line 3)`;
    expect(mask(text), `${form} in ${text}`).not.toContain(secret);
    expect(mask(text)).not.toContain(b64(secret));
    expect(mask(text)).toContain('(at line 3)');
  }
}

const secretYaml = (body: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n${body.replace(/^\n/, '')}`;

describe('secret material of Secret documents', () => {
  it('finds stringData and data values, decoded and encoded, in a well-formed Secret', () => {
    const files = [
      file(
        's.yaml',
        secretYaml(`stringData:\n  password: hunter2-plain\ndata:\n  token: ${b64('tok-3456789')}\n`),
      ),
    ];
    hides(files, 'hunter2-plain');
    hides(files, 'tok-3456789');
    hides(files, b64('tok-3456789'));
  });

  it('reads a Secret that does not parse: aliases, tags, open quotes, tabs, nested mappings', () => {
    const cases: [string, string][] = [
      ['  password: *Alias-Secret-1\n', 'Alias-Secret-1'],
      ['  password: !Tagged-Secret-2\n', 'Tagged-Secret-2'],
      ['  password: &Anchor-Secret-3 x\n', 'Anchor-Secret-3'],
      ['  password: "Open-Quote-4\n  user: x\n', 'Open-Quote-4'],
      ["  password: 'Open-Single-5\n", 'Open-Single-5'],
      ['  password: Nested-6: mapping\n', 'Nested-6: mapping'],
      ['  password: @Reserved-7\n', '@Reserved-7'],
      ['  password: Tab-Secret-8\n\tuser: x\n', 'Tab-Secret-8'],
      ['  password: |\n    Block-Line-9\n    second line 9\n', 'Block-Line-9'],
      ['  password: [Flow-Seq-10\n', 'Flow-Seq-10'],
      ['  "odd key Pasted-11": x\n', 'odd key Pasted-11'],
    ];
    for (const [body, secret] of cases) {
      const files = [file('s.yaml', secretYaml(`stringData:\n${body}`))];
      const mask = secretMasker(files);
      expect(mask(`... ${secret} ...`), body).toBe('... *** ...');
    }
  });

  it('reads Secrets in JSON, in flow mappings, in Lists and among other documents', () => {
    const json = file(
      'a/secret.json',
      '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"j"},"stringData":{"k": "Json-Secret-1", "b": Bare-2}}',
    );
    const flow = file('b.yaml', secretYaml('stringData: {a: Flow-Secret-3, b: "Flow-Quoted-4"}\n'));
    const list = file(
      'c.yml',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: Not-Secret-5}\n---\n' +
        'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  stringData:\n    x: List-Secret-6\n',
    );
    const mask = secretMasker([json, flow, list]);
    for (const s of ['Json-Secret-1', 'Bare-2', 'Flow-Secret-3', 'Flow-Quoted-4', 'List-Secret-6'])
      expect(mask(`<${s}>`), s).toBe('<***>');
    // A ConfigMap in its own document is not a Secret: its values stay readable.
    expect(mask('Not-Secret-5')).toBe('Not-Secret-5');
  });

  it('reads JSON-escaped and YAML-escaped values in the forms messages quote them', () => {
    const files = [
      file('s.yaml', secretYaml('stringData:\n  a: "quote\\"d-Secret"\n  b: "line1-abc\\nline2-def"\n')),
    ];
    const mask = secretMasker(files);
    expect(mask('x quote"d-Secret y')).toBe('x *** y');
    expect(mask('x "quote\\"d-Secret" y')).not.toContain('d-Secret');
    expect(mask('x line1-abc\\nline2-def y')).toBe('x *** y');
    expect(mask('x line2-def y')).toBe('x *** y');
  });

  it('ignores kinds that only start with Secret, and files that are not manifests', () => {
    const files = [
      file(
        'p.yaml',
        'apiVersion: x/v1\nkind: SecretProviderClass\nmetadata: {name: p}\ndata:\n  a: Provider-Value\n',
      ),
      file('notes.txt', 'kind: Secret\ndata:\n  a: Text-File-Value\n'),
    ];
    expect(secretMaterial(files).size).toBe(0);
  });
});

describe('secret material of kustomize secret generators', () => {
  it('finds literal values, and a literal without = whole', () => {
    const files = [
      file(
        'app/kustomization.yaml',
        'secretGenerator:\n- name: a\n  literals:\n  - user=admin-user\n  - pass="Quoted-Pass-1"\n  - Bare-Literal-2\n' +
          'configMapGenerator:\n- name: c\n  literals:\n  - level=Config-Level-3\n',
      ),
    ];
    const mask = secretMasker(files);
    expect(mask('admin-user Quoted-Pass-1 Bare-Literal-2')).toBe('*** *** ***');
    expect(mask('"pass=\\"Quoted-Pass-1\\""')).not.toContain('Quoted-Pass-1');
    // configMapGenerator literals are not secret.
    expect(mask('Config-Level-3')).toBe('Config-Level-3');
    // The keys stay readable.
    expect(mask('user=admin-user')).toBe('user=***');
  });

  it('reads a kustomization that does not parse, and flow-style literals', () => {
    const broken = file(
      'kustomization.yaml',
      'secretGenerator:\n  - name: a\n    literals: [k=Flow-Literal-1, Flow-Bare-2]\n  - name: b\n    literals:\n      - *Alias-Literal-3\n\tbad: tab\n',
    );
    const mask = secretMasker([broken]);
    expect(mask('Flow-Literal-1 Flow-Bare-2 Alias-Literal-3')).toBe('*** *** ***');
  });

  it('finds the values of env files and the content of files, relative to the kustomization', () => {
    const files = [
      file(
        'overlays/prod/kustomization.yaml',
        'secretGenerator:\n- name: a\n  envs:\n  - ../../env/app.env\n  files:\n  - tls.key=certs/tls.key\n- name: b\n  env: one.env\n',
      ),
      file('env/app.env', '# comment\nLOG=Env-Value-1\nPASSWORD: Yaml-Style-2\nTOKEN Space-Sep-3\n'),
      file('overlays/prod/certs/tls.key', '-----BEGIN KEY-----\nKeyLine-ABCDEFGH\n-----END KEY-----\n'),
      file('overlays/prod/one.env', 'A=Single-Env-4\n'),
      file('other.env', 'A=Unreferenced-5\n'),
    ];
    const mask = secretMasker(files);
    expect(mask('Env-Value-1 Yaml-Style-2 Space-Sep-3 Single-Env-4')).toBe('*** *** *** ***');
    // A line kustomize takes whole for a key is masked whole, as the API server quotes it.
    expect(mask('data[PASSWORD: Yaml-Style-2]: Invalid value: "PASSWORD: Yaml-Style-2"')).toBe(
      'data[***]: Invalid value: "***"',
    );
    expect(mask('line KeyLine-ABCDEFGH')).toBe('line ***');
    expect(mask(b64('-----BEGIN KEY-----\nKeyLine-ABCDEFGH\n-----END KEY-----\n'))).toBe('***');
    expect(mask('Unreferenced-5')).toBe('Unreferenced-5');
  });

  it('masks a files or envs entry that names no file: a value written where a path belongs', () => {
    const files = [
      file('kustomization.yaml', 'secretGenerator:\n- name: a\n  files:\n  - password=Value-As-Path\n'),
    ];
    expect(secretMasker(files)('lstat Value-As-Path: no such file')).toBe('lstat ***: no such file');
  });

  it('reads kind: SecretGenerator documents (generator plugins configs)', () => {
    const files = [
      file(
        'gen.yaml',
        'apiVersion: builtin\nkind: SecretGenerator\nmetadata: {name: g}\nliterals:\n- a=Plugin-Literal\n',
      ),
    ];
    expect(secretMasker(files)('Plugin-Literal')).toBe('***');
  });
});

describe('secret material of objects', () => {
  it('takes Secret values and odd keys from loaded or rendered objects', () => {
    const manifest = {
      object: {
        kind: 'Secret',
        data: { 'PASSWORD: Odd-Key-1': '', ok: b64('Object-Value-2') },
        stringData: { s: 'String-Data-3' },
      },
    };
    const configMap = { kind: 'ConfigMap', data: { a: 'Config-Value' } };
    const mask = secretMasker([], [manifest, configMap]);
    expect(mask('Invalid value: "PASSWORD: Odd-Key-1"')).toBe('Invalid value: "***"');
    expect(mask('Odd-Key-1 Object-Value-2 String-Data-3 Config-Value')).toBe('*** *** *** Config-Value');
  });
});

describe('maskerOf', () => {
  it('masks nothing shorter than 4 characters, and short values only as whole words', () => {
    const mask = maskerOf(['abc', 'shop', '****', '    ']);
    expect(mask('abc shop shopping workshop shop/web')).toBe('abc *** shopping workshop ***/web');
    expect(maskerOf(['abc'])).toBe(noMasking);
  });

  it('masks long values inside words, longest first', () => {
    const mask = maskerOf(['Long-Secret-Value', 'Long-Secret']);
    expect(mask('xLong-Secret-Valuex and Long-Secret.')).toBe('x***x and ***.');
  });

  it('treats regular expression characters literally', () => {
    const mask = maskerOf(['a.b*c+d(e)[f]{g}|h\\i$^/-']);
    expect(mask('x a.b*c+d(e)[f]{g}|h\\i$^/- y aXb')).toBe('x *** y aXb');
  });
});

describe('maskError', () => {
  it('masks a ManifestErrors, its errors, details and hints in place, keeping classes and locations', () => {
    const inner = new InvalidObjectError(
      { file: 's.yaml', line: 3, column: 5 },
      COMMIT,
      'alias *Hidden-Value',
      {
        hint: 'define &Hidden-Value',
      },
    );
    const e = new ManifestErrors(COMMIT, [inner]);
    const masked = maskError(e, maskerOf(['Hidden-Value']));
    expect(masked).toBe(e);
    expect(masked).toBeInstanceOf(ManifestErrors);
    expect(e.message).not.toContain('Hidden-Value');
    expect(e.stack).not.toContain('Hidden-Value');
    expect(e.errors[0]).toBeInstanceOf(InvalidObjectError);
    expect(e.errors[0]!.message).toBe('s.yaml:3:5 (commit c0ffee1): alias ****');
    expect(e.errors[0]!.detail).toBe('alias ****');
    expect(e.errors[0]!.hint).toBe('define &***');
    expect(e.errors[0]!.location).toEqual({ file: 's.yaml', line: 3, column: 5 });
  });

  it('masks what API errors and sync errors carry: causes, string lists, results and causes', () => {
    const cause = Object.assign(new Error('Invalid value: "Hidden-Value"'), {
      detail: 'Hidden-Value',
      causes: [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "Hidden-Value"',
          field: 'data[Hidden-Value]',
        },
      ],
    });
    const objectError = Object.assign(new Error('ns/x: Hidden-Value'), { id: { name: 'x' } });
    const e = Object.assign(new Error('rejected: Hidden-Value', { cause }), {
      errors: ['plan: Hidden-Value', objectError],
      results: [{ id: { name: 'x' }, message: 'm Hidden-Value', error: objectError }],
    });
    maskError(e, maskerOf(['Hidden-Value']));
    expect(JSON.stringify({ ...e, message: e.message, stack: e.stack })).not.toContain('Hidden-Value');
    expect(cause.message).toBe('Invalid value: "***"');
    expect(cause.causes[0]).toEqual({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "***"',
      field: 'data[***]',
    });
    expect(objectError.message).toBe('ns/x: ***');
    expect(objectError.id).toEqual({ name: 'x' });
    expect(e.errors[0]).toBe('plan: ***');
  });

  it('leaves non-errors and the no-op masker alone', () => {
    expect(maskError('Hidden-Value', maskerOf(['Hidden-Value']))).toBe('Hidden-Value');
    const e = new Error('Hidden-Value');
    expect(maskError(e, noMasking).message).toBe('Hidden-Value');
  });
});
