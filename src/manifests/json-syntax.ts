/**
 * Strict JSON syntax check for `.json` files (RFC 8259, one value per file). The values
 * themselves are read by the YAML reader, which keeps positions; this only refuses what
 * JSON does not allow (trailing commas, comments, single quotes, bare words) with a
 * position and a message that never quotes the file's content. Iterative, so deep nesting
 * cannot overflow the stack.
 */
export function checkJsonSyntax(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const n = text.length;
  // What each open container expects next.
  const stack: ('object' | 'array')[] = [];
  const err = (reason: string) => ({ offset: Math.min(i, n), reason });
  const skipWs = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const scanString = (): string | undefined => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return 'control character in a string (escape it)';
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return 'bad \\u escape in a string';
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return 'bad escape in a string';
        i += 2;
        continue;
      }
      i++;
    }
    return 'unterminated string';
  };
  const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  const scanScalar = (): string | undefined => {
    const c = text[i];
    if (c === '"') return scanString();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return undefined;
      }
    }
    NUMBER.lastIndex = i;
    if (c !== undefined && /[-0-9]/.test(c) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return undefined;
    }
    return c === undefined ? 'unexpected end of input' : 'unexpected character (expected a value)';
  };

  skipWs();
  if (i === n) return undefined; // an empty file holds no objects
  let expectValue = true;
  for (;;) {
    skipWs();
    if (expectValue) {
      const c = text[i];
      if (c === '{' || c === '[') {
        stack.push(c === '{' ? 'object' : 'array');
        i++;
        skipWs();
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i++;
          expectValue = false;
          continue;
        }
        if (c === '{') {
          if (text[i] !== '"') return err('expected a double-quoted property name');
          const bad = scanString();
          if (bad) return err(bad);
          skipWs();
          if (text[i] !== ':') return err("expected ':' after the property name");
          i++;
        }
        continue;
      }
      const bad = scanScalar();
      if (bad) return err(bad);
      expectValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined)
      return i === n ? undefined : err('unexpected text after the JSON value (one value per file)');
    const c = text[i];
    if (c === ',') {
      i++;
      skipWs();
      if (top === 'object') {
        if (text[i] !== '"')
          return err('expected a double-quoted property name (no trailing commas in JSON)');
        const bad = scanString();
        if (bad) return err(bad);
        skipWs();
        if (text[i] !== ':') return err("expected ':' after the property name");
        i++;
      }
      expectValue = true;
      continue;
    }
    if (c === (top === 'object' ? '}' : ']')) {
      stack.pop();
      i++;
      continue;
    }
    return err(
      c === undefined ? 'unexpected end of input' : `expected ',' or '${top === 'object' ? '}' : ']'}'`,
    );
  }
}
