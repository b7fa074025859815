import { describe, expect, it } from 'vitest';
import { formatGoFloatKey, resolvePlainScalar } from '../../../src/manifests/scalars.ts';

const value = (text: string) => {
  const r = resolvePlainScalar(text);
  return r.kind === 'int' ? r.value : r.kind === 'str' ? `str:${text}` : r.kind === 'null' ? null : r.value;
};

describe('plain scalars follow go-yaml v2 (YAML 1.1 where Kubernetes does)', () => {
  it.each([
    ['0644', 420n],
    ['0755', 493n],
    ['-0644', -420n],
    ['0', 0n],
    ['00', 0n],
    ['0x1F', 31n],
    ['0X1f', 31n],
    ['-0x1F', -31n],
    ['0o17', 15n],
    ['0b101', 5n],
    ['1_000', 1000n],
    ['0x_1F', 31n],
    ['+12', 12n],
    ['9223372036854775807', 9223372036854775807n],
    // Beyond int64 but in uint64: ParseUint takes it.
    ['18446744073709551615', 18446744073709551615n],
  ])('%s is the integer %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it.each([
    ['08', 8], // not octal: ParseInt fails, the float pattern matches
    ['1.5', 1.5],
    ['1e3', 1000],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['1.', 1],
    ['1_000.5', 1000.5],
    ['1.10', 1.1],
    ['.inf', Infinity],
    ['-.Inf', -Infinity],
    ['+.INF', Infinity],
    ['99999999999999999999', 1e20], // beyond uint64: a float
  ])('%s is the float %s', (text, expected) => {
    expect(value(text)).toBe(expected);
  });

  it('.nan is NaN', () => {
    expect(value('.NaN')).toBeNaN();
  });

  it.each(['yes', 'Yes', 'YES', 'y', 'Y', 'on', 'On', 'ON', 'true', 'True', 'TRUE'])('%s is true', (text) => {
    expect(value(text)).toBe(true);
  });

  it.each(['no', 'No', 'NO', 'n', 'N', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE'])(
    '%s is false',
    (text) => {
      expect(value(text)).toBe(false);
    },
  );

  it.each(['~', 'null', 'Null', 'NULL', ''])('%j is null', (text) => {
    expect(value(text)).toBeNull();
  });

  // go-yaml v2's resolve() has no sexagesimal case ("Base 60 floats are a bad idea ... purposefully
  // unsupported"): `1:20` starts with a digit, ParseInt and ParseUint fail on ':', and the float
  // pattern has no ':', so it falls through to a string. Same for timestamps, which v2 does
  // recognize but hands to untyped (interface{}) targets as the original string.
  it.each([
    '1:20',
    '190:20:30.15',
    '2024-01-01',
    '2001-12-14t21:59:43.10-05:00',
    'yEs',
    'nULL',
    '0x',
    '0xG',
    '1e400', // ParseFloat overflows, so go-yaml keeps the text
    '_1',
    '-',
    '+',
    '1,000',
    '0b2',
    '.',
    '.5.5',
    '1e',
    'Infinity',
    'NaN',
    '-0b',
  ])('%s stays a string', (text) => {
    expect(value(text)).toBe(`str:${text}`);
  });

  it('marks integer-looking floats so big ones can be refused', () => {
    expect(resolvePlainScalar('99999999999999999999')).toMatchObject({ kind: 'float', integerSyntax: true });
    expect(resolvePlainScalar('1e20')).toMatchObject({ kind: 'float', integerSyntax: false });
  });
});

describe('float map keys are spelled like Go strconv.FormatFloat(f, g, -1, 64)', () => {
  it.each([
    [1.5, '1.5'],
    [1e6, '1e+06'],
    [123456, '123456'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1e21, '1e+21'],
    [1.5e-300, '1.5e-300'],
    [-2.5, '-2.5'],
    [100, '100'],
    [Infinity, '.inf'],
    [-Infinity, '-.inf'],
    [NaN, '.nan'],
  ])('%s -> %s', (n, expected) => {
    expect(formatGoFloatKey(n)).toBe(expected);
  });
});
