/**
 * Where a rendered object came from. kustomize is asked for origin annotations (through a
 * wrapper kustomization, so the repository's own file is not changed); they are taken out of
 * its output again here, before parsing, so they are never applied. helm marks each document
 * with a `# Source:` comment. Errors and diffs then name the file in the repository.
 */
export const ORIGIN_ANNOTATION = 'config.kubernetes.io/origin';

export interface Origin {
  /** 1-based line of the output where the document starts. */
  line: number;
  /** Repository path (or `<remote repo>//<path>` for a remote base). */
  file: string;
}

/**
 * Removes kustomize's origin annotations from its output (an `annotations:` map left empty
 * goes too) and returns where each document came from. `prefix` is how the wrapper's paths
 * reach the repository root (`../src/`).
 */
export function stripOrigins(text: string, prefix: string): { text: string; origins: Origin[] } {
  const lines = text.split('\n');
  const out: string[] = [];
  const origins: Origin[] = [];
  let docStart = 1;
  // Where the line is in the document: kustomize writes `metadata:` at column 0,
  // `annotations:` at 2 and each annotation at 4. A block scalar's content is always
  // indented deeper than its key, so these cannot be faked from inside a value.
  let top = '';
  let second = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '---') {
      out.push(line);
      docStart = out.length + 1;
      top = second = '';
      continue;
    }
    const key = /^( *)([^\s:#][^:]*):/.exec(line);
    if (key?.[1] === '') [top, second] = [key[2]!, ''];
    else if (key?.[1] === '  ') second = key[2]!;
    const inAnnotations = top === 'metadata' && second === 'annotations';
    if (!inAnnotations || !/^ {4}config\.kubernetes\.io\/origin: \|-?\s*$/.test(line)) {
      out.push(line);
      continue;
    }
    const fields = new Map<string, string>();
    while (i + 1 < lines.length && indentOf(lines[i + 1]!) > 4) {
      const f = /^\s*([A-Za-z]+): (.*)$/.exec(lines[++i]!);
      if (f) fields.set(f[1]!, f[2]!.trim());
    }
    const path = fields.get('path') ?? fields.get('configuredIn');
    if (path !== undefined) {
      const repo = fields.get('repo');
      const file = repo ? `${repo}//${path}` : path.startsWith(prefix) ? path.slice(prefix.length) : path;
      origins.push({ line: docStart, file });
    }
    // `annotations:` whose only entry was the origin.
    const next = lines[i + 1];
    if (out[out.length - 1] === '  annotations:' && (next === undefined || indentOf(next) <= 2)) out.pop();
  }
  return { text: out.join('\n'), origins };
}

function indentOf(line: string): number {
  if (line.trim() === '') return Number.MAX_SAFE_INTEGER; // blank lines stay inside a block
  return line.length - line.trimStart().length;
}

/** The origin of the document starting at `line`. */
export function originAt(origins: readonly Origin[], line: number): Origin | undefined {
  let found: Origin | undefined;
  for (const o of origins) {
    if (o.line > line) break;
    found = o;
  }
  return found;
}
