/**
 * Resolution of untagged plain YAML scalars the way Kubernetes reads them: sigs.k8s.io/yaml
 * decodes with its go-yaml v2 fork, which follows YAML 1.1 for booleans, nulls and integers
 * (octal `0644`, `0x1F`, `1_000`, `yes`/`on`) but deliberately does not parse sexagesimal
 * numbers (`1:20` stays a string) and hands timestamps to untyped targets as strings.
 * This mirrors go-yaml v2's resolve(): a lookup table first, then, for scalars starting
 * with a digit or a sign, Go's strconv.ParseInt(s, 0, 64), ParseUint, then a float pattern.
 */
export type Resolved =
  | { kind: 'null' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number; integerSyntax: boolean }
  | { kind: 'str' };

const TABLE = new Map<string, Resolved>();
function add(words: string, resolved: Resolved): void {
  for (const word of words.split(' ')) TABLE.set(word, resolved);
}
add('y Y yes Yes YES true True TRUE on On ON', { kind: 'bool', value: true });
add('n N no No NO false False FALSE off Off OFF', { kind: 'bool', value: false });
add('~ null Null NULL', { kind: 'null' });
TABLE.set('', { kind: 'null' });
add('.nan .NaN .NAN', { kind: 'float', value: NaN, integerSyntax: false });
add('.inf .Inf .INF +.inf +.Inf +.INF', { kind: 'float', value: Infinity, integerSyntax: false });
add('-.inf -.Inf -.INF', { kind: 'float', value: -Infinity, integerSyntax: false });

/** Go's ParseInt(s, 0, 64) syntax once underscores are gone: 0x, 0o, 0b, leading-0 octal, decimal. */
const GO_INT = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))$/;
/** go-yaml v2's yamlStyleFloat. */
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** Go's ParseFloat on input starting with '.'; underscores are only legal after a base prefix. */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;
const DECIMAL_INT = /^[-+]?[0-9]+$/;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

export function resolvePlainScalar(text: string): Resolved {
  const fromTable = TABLE.get(text);
  if (fromTable) return fromTable;
  const first = text.charAt(0);
  if (first === '.') {
    if (DOT_FLOAT.test(text)) return finiteFloat(Number(text), false);
    return { kind: 'str' };
  }
  if (!/[-+0-9]/.test(first)) return { kind: 'str' };

  const plain = text.replaceAll('_', '');
  const int = parseGoInt(plain);
  if (int !== undefined) {
    if (int >= INT64_MIN && int <= INT64_MAX) return { kind: 'int', value: int };
    // ParseUint takes no sign.
    if (int >= 0n && int <= UINT64_MAX && !/^[+-]/.test(plain)) return { kind: 'int', value: int };
  }
  if (YAML_FLOAT.test(plain)) return finiteFloat(Number(plain), DECIMAL_INT.test(plain));
  return { kind: 'str' };
}

/** ParseFloat reports overflow as an error, and go-yaml then keeps the text as a string. */
function finiteFloat(value: number, integerSyntax: boolean): Resolved {
  return Number.isFinite(value) ? { kind: 'float', value, integerSyntax } : { kind: 'str' };
}

function parseGoInt(plain: string): bigint | undefined {
  const m = GO_INT.exec(plain);
  if (!m) return undefined;
  const [, sign, hex, oct, bin, leadingZeroOct, dec] = m;
  let magnitude: bigint;
  if (hex !== undefined) magnitude = BigInt(`0x${hex}`);
  else if (oct !== undefined) magnitude = BigInt(`0o${oct}`);
  else if (bin !== undefined) magnitude = BigInt(`0b${bin}`);
  else if (leadingZeroOct !== undefined)
    magnitude = leadingZeroOct === '' ? 0n : BigInt(`0o${leadingZeroOct}`);
  else magnitude = BigInt(dec ?? '0');
  return sign === '-' ? -magnitude : magnitude;
}

/**
 * How sigs.k8s.io/yaml turns a float map key into a string: Go's
 * strconv.FormatFloat(f, 'g', -1, 64), with YAML's spelling of the infinities.
 */
export function formatGoFloatKey(value: number): string {
  if (Number.isNaN(value)) return '.nan';
  if (value === Infinity) return '.inf';
  if (value === -Infinity) return '-.inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  // toExponential() without an argument gives the shortest round-trip digits, as Go does.
  const [mantissa = '', expText = '0'] = value.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const digits = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${mantissa}e${exp < 0 ? '-' : '+'}${digits}`;
  }
  const significant = mantissa.replace('-', '').replace('.', '').length;
  return value.toFixed(Math.max(significant - 1 - exp, 0));
}
