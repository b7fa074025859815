import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { buildConfig } from './build.ts';
import { crossChecks } from './checks.ts';
import { ConfigErrors } from './errors.ts';
import type { ConfigProblem } from './errors.ts';
import { issueToPathIssues } from './issues.ts';
import type { PathIssue } from './issues.ts';
import { formatPath, locate } from './positions.ts';
import type { KeyPath } from './positions.ts';
import { configSchema } from './schema.ts';
import type { TetherConfig } from './types.ts';

/** Plainer words for the parser's messages that name its own API or say too little. */
const YAML_ERRORS: Partial<Record<string, string>> = {
  DUPLICATE_KEY: 'duplicate key: a key may appear once in a mapping',
  MULTIPLE_DOCS: 'more than one document: a config file holds exactly one (remove the "---")',
};

/**
 * Validates a config file's text. `file` names the file in messages, and its directory is
 * the base of relative paths. Throws ConfigErrors listing every problem with its
 * file:line:column and key path.
 *
 * YAML 1.2 core schema: `yes`/`on` are strings here, so `prune: yes` is reported as a wrong
 * type instead of silently meaning true or false.
 */
export function parseConfig(text: string, file: string): TetherConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problemAt = (offset: number, path: string, message: string): ConfigProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, path, line: Math.max(line, 1), column: Math.max(col, 1), message };
  };

  if (doc.errors.length > 0) {
    throw new ConfigErrors(
      file,
      doc.errors.map((e) => problemAt(e.pos[0], '', `invalid YAML: ${YAML_ERRORS[e.code] ?? e.message}`)),
    );
  }
  let raw: unknown;
  try {
    // The alias limit stops "billion laughs" documents.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigErrors(file, [problemAt(0, '', `invalid YAML: ${(err as Error).message}`)]);
  }
  if (raw === null || raw === undefined) {
    throw new ConfigErrors(file, [problemAt(0, '', 'the file is empty; it needs at least an apps: list')]);
  }

  const lineOf = (path: KeyPath) => problemAt(locate(doc, path), '', '').line;
  const result = configSchema.safeParse(raw, { reportInput: true });
  const issues: PathIssue[] = [
    ...(result.success ? [] : result.error.issues.flatMap((i) => issueToPathIssues(i, configSchema, raw))),
    ...crossChecks(raw, lineOf),
  ];
  if (issues.length > 0 || !result.success) {
    throw new ConfigErrors(
      file,
      issues.map((i) =>
        problemAt(locate(doc, i.path, { key: i.key ?? false }), formatPath(i.path), i.message),
      ),
    );
  }
  const absolute = resolve(file);
  return buildConfig(result.data, absolute, dirname(absolute));
}
