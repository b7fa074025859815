/** Where the scan is in the text; the step functions below move `i` forward. */
interface Scanner {
  readonly text: string;
  i: number;
}

type Container = 'object' | 'array';

const CLOSE: Record<Container, string> = { object: '}', array: ']' };

/**
 * What the scan expects next: a value, what follows a value (',', a closing bracket or the
 * end), or nothing more; or why the text is not JSON, at the scanner's position.
 */
type Step = 'value' | 'after-value' | 'end' | { reason: string };

/**
 * Strict JSON syntax check for `.json` files (RFC 8259, one value per file). The values
 * themselves are read by the YAML reader, which keeps positions; this only refuses what
 * JSON does not allow (trailing commas, comments, single quotes, bare words) with a
 * position and a message that never quotes the file's content. Iterative, with an explicit
 * stack of open containers, so deep nesting cannot overflow the call stack.
 */
export function checkJsonSyntax(text: string): { offset: number; reason: string } | undefined {
  const s: Scanner = { text, i: 0 };
  skipWs(s);
  if (s.i === text.length) return undefined; // an empty file holds no objects
  const stack: Container[] = [];
  let step: Step = 'value';
  while (step === 'value' || step === 'after-value') {
    skipWs(s);
    step = step === 'value' ? valueStep(s, stack) : afterValueStep(s, stack);
  }
  return step === 'end' ? undefined : { offset: Math.min(s.i, text.length), reason: step.reason };
}

function skipWs(s: Scanner): void {
  while (isWs(s.text[s.i])) s.i++;
}

/** JSON's four whitespace characters; undefined (the end of the text) is not one. */
function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** A scalar, or the start of an object or array. */
function valueStep(s: Scanner, stack: Container[]): Step {
  const c = s.text[s.i];
  if (c === '{') return openContainer(s, stack, 'object');
  if (c === '[') return openContainer(s, stack, 'array');
  const bad = scanScalar(s);
  return bad ? { reason: bad } : 'after-value';
}

/** Past the opening bracket: an empty container closes at once, an object's first member needs a name. */
function openContainer(s: Scanner, stack: Container[], container: Container): Step {
  stack.push(container);
  s.i++;
  skipWs(s);
  if (s.text[s.i] === CLOSE[container]) {
    stack.pop();
    s.i++;
    return 'after-value';
  }
  if (container === 'object') return propertyName(s, 'expected a double-quoted property name') ?? 'value';
  return 'value';
}

/** After a value: the next member or item, the innermost container's end, or the end of the text. */
function afterValueStep(s: Scanner, stack: Container[]): Step {
  const top = stack[stack.length - 1];
  if (top === undefined) {
    return s.i === s.text.length
      ? 'end'
      : { reason: 'unexpected text after the JSON value (one value per file)' };
  }
  const c = s.text[s.i];
  if (c === ',') {
    s.i++;
    skipWs(s);
    if (top === 'object') {
      return (
        propertyName(s, 'expected a double-quoted property name (no trailing commas in JSON)') ?? 'value'
      );
    }
    return 'value';
  }
  if (c === CLOSE[top]) {
    stack.pop();
    s.i++;
    return 'after-value';
  }
  return { reason: c === undefined ? 'unexpected end of input' : `expected ',' or '${CLOSE[top]}'` };
}

/** `"name"` and its ':'; `missing` is the reason when no string starts here. */
function propertyName(s: Scanner, missing: string): { reason: string } | undefined {
  if (s.text[s.i] !== '"') return { reason: missing };
  const bad = scanString(s);
  if (bad) return { reason: bad };
  skipWs(s);
  if (s.text[s.i] !== ':') return { reason: "expected ':' after the property name" };
  s.i++;
  return undefined;
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/** A string, a number, true, false or null; returns why not, with the scanner where it stopped. */
function scanScalar(s: Scanner): string | undefined {
  const { text } = s;
  const c = text[s.i];
  if (c === '"') return scanString(s);
  for (const word of ['true', 'false', 'null']) {
    if (text.startsWith(word, s.i)) {
      s.i += word.length;
      return undefined;
    }
  }
  NUMBER.lastIndex = s.i;
  if (c !== undefined && /[-0-9]/.test(c) && NUMBER.test(text)) {
    s.i = NUMBER.lastIndex;
    return undefined;
  }
  return c === undefined ? 'unexpected end of input' : 'unexpected character (expected a value)';
}

/** From the opening quote past the closing one; returns why not, with the scanner at the fault. */
function scanString(s: Scanner): string | undefined {
  const { text } = s;
  s.i++; // opening quote
  while (s.i < text.length) {
    const c = text.charCodeAt(s.i);
    if (c === 0x22) {
      s.i++;
      return undefined;
    }
    if (c < 0x20) return 'control character in a string (escape it)';
    if (c === 0x5c) {
      const e = text[s.i + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(s.i + 2, s.i + 6))) return 'bad \\u escape in a string';
        s.i += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) return 'bad escape in a string';
      s.i += 2;
      continue;
    }
    s.i++;
  }
  return 'unterminated string';
}
