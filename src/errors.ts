/**
 * Base class of every error Tether reports to a user. The message says what went wrong
 * (naming the file, line and commit, or the server); `hint` says what to do next. The CLI
 * prints both on one line each and never a stack trace unless asked to.
 */
export class TetherError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** Removes `user:password@` from URLs so credentials never reach a log line or an error. */
export function redactUrl(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
