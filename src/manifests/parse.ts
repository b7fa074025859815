import { Composer, LineCounter, Parser } from 'yaml';
import type { Node } from 'yaml';
import {
  DuplicateKeyError,
  InvalidObjectError,
  LimitExceededError,
  ManifestSyntaxError,
  UnrepresentableValueError,
} from './errors.ts';
import type { ManifestError } from './errors.ts';
import { checkJsonSyntax } from './json-syntax.ts';
import { toJson } from './to-json.ts';
import type { AliasTargets, ConvertIssue } from './to-json.ts';
import type { JsonValue, Limits, SourceLocation } from './types.ts';

/** One non-empty document of a file, as JSON data plus what is needed to locate its parts. */
export interface ParsedDocument {
  /** Position of the document in its file, counting empty ones, from 0. */
  index: number;
  value: JsonValue;
  root: Node;
  aliases: AliasTargets;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  errors: ManifestError[];
  /** Offset in the text to a 1-based location in this file. */
  locate: (offset: number) => SourceLocation;
}

/**
 * Reads every document of one file. YAML is composed with the failsafe schema so that all
 * scalar typing follows Kubernetes' rules (see scalars.ts) rather than the library's.
 * `.json` files must be strict JSON and are then read the same way (JSON is YAML), which
 * keeps positions. The first problem of each document is reported; other documents go on.
 */
export function parseFile(
  file: string,
  text: string,
  opts: { commit: string; limits: Limits; json: boolean },
): ParsedFile {
  const lineCounter = new LineCounter();
  const locate = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const result: ParsedFile = { documents: [], errors: [], locate };
  const error = (Kind: typeof ManifestError, offset: number, detail: string, hint: string) =>
    result.errors.push(new Kind(locate(offset), opts.commit, detail, { hint }));

  if (opts.json) {
    const bad = checkJsonSyntax(text);
    if (bad) {
      // Count lines for the location; the YAML reader has not run.
      lineCounter.addNewLine(0);
      for (let i = text.indexOf('\n'); i !== -1 && i < bad.offset; i = text.indexOf('\n', i + 1))
        lineCounter.addNewLine(i + 1);
      error(ManifestSyntaxError, bad.offset, `invalid JSON: ${bad.reason}`, 'fix the JSON syntax');
      return result;
    }
  }

  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ schema: 'failsafe', uniqueKeys: false, prettyErrors: false, lineCounter });
  let index = -1;
  for (const doc of composer.compose(parser.parse(text))) {
    index += 1;
    if (index >= opts.limits.maxDocumentsPerFile) {
      error(
        LimitExceededError,
        doc.range[0],
        `more than ${opts.limits.maxDocumentsPerFile} YAML documents in one file`,
        'split the file',
      );
      break;
    }
    const syntax = doc.errors[0];
    if (syntax) {
      if (syntax.code === 'RESOURCE_EXHAUSTION') {
        error(
          LimitExceededError,
          syntax.pos[0],
          'the document is nested too deeply to read',
          'flatten the document',
        );
      } else {
        error(
          ManifestSyntaxError,
          syntax.pos[0],
          `invalid YAML: ${describeSyntaxError(syntax.message)}`,
          syntaxHint(syntax.code),
        );
      }
      continue;
    }
    const root = doc.contents;
    if (root === null) continue; // only comments, or nothing
    const converted = toJson(root, opts.limits);
    if ('kind' in converted) {
      const issue: ConvertIssue = converted;
      error(ISSUE_ERRORS[issue.kind], issue.offset, issue.detail, issue.hint);
      continue;
    }
    // Like kubectl, a document that is just `null` or `~` holds no object.
    if (converted.value === null) continue;
    result.documents.push({ index, value: converted.value, root, aliases: converted.aliases });
  }
  return result;
}

const ISSUE_ERRORS: Record<ConvertIssue['kind'], typeof ManifestError> = {
  'duplicate-key': DuplicateKeyError,
  unrepresentable: UnrepresentableValueError,
  limit: LimitExceededError,
  invalid: InvalidObjectError,
};

/** The library's messages, first letter lowercased to read as part of ours. */
function describeSyntaxError(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'MISSING_CHAR':
      return 'close the quote or bracket';
    case 'BAD_INDENT':
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return 'check the indentation of this line and the ones before it';
    default:
      return 'fix the YAML syntax (a YAML linter shows the exact problem)';
  }
}
