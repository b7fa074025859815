import { TetherError } from '../errors.ts';

/** One problem in a config file. `message` is the detail, without location or key path. */
export interface ConfigProblem {
  file: string;
  /** Key path such as `apps[0].sync.mode`; empty for the file as a whole. */
  path: string;
  line: number;
  column: number;
  message: string;
}

/** `file:line:column: path: message`, the form every config error is shown in. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Every problem of one config file, reported together so one edit fixes them all. */
export class ConfigErrors extends TetherError {
  readonly file: string;
  readonly errors: ConfigProblem[];
  constructor(file: string, errors: ConfigProblem[]) {
    const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
    const count = sorted.length === 1 ? '1 error' : `${sorted.length} errors`;
    super(`${count} in config file ${file}:\n${sorted.map(formatProblem).join('\n')}`, {
      hint: 'fix the config file at the places named above',
    });
    this.file = file;
    this.errors = sorted;
  }
}

/** The config file cannot be read at all (missing, unreadable, a directory). */
export class ConfigReadError extends TetherError {}

/** Command-line flags that do not make a valid app (see appFromFlags). */
export class ConfigFlagsError extends TetherError {}

/** `--app` names no app of the config file, or the file has several and none was chosen. */
export class AppSelectionError extends TetherError {}

/** A duration string that parseDuration does not understand. */
export class InvalidDurationError extends TetherError {}
