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

/**
 * Removes credentials from URLs so they never reach a log line or an error: `user:password@`,
 * and the value of every query parameter (`?token=...`, `&access_token=...`: a query often
 * carries a token, and nothing tells which parameters do). A `token=`, `password=` or
 * `secret=` pair outside a URL is masked too.
 */
export function redactUrl(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@')
    .replace(
      /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>`]*\?)([^\s#"'<>`]*)/gi,
      (_, head: string, query: string) => {
        // Punctuation that ends the sentence around the URL is not part of the query.
        const tail = /[.,:;)\]]+$/.exec(query)?.[0] ?? '';
        return head + redactQuery(query.slice(0, query.length - tail.length)) + tail;
      },
    )
    .replace(CREDENTIAL_PAIR, '$1***');
}

/** `name=value` pairs whose name says they carry a credential, anywhere in a text. */
const CREDENTIAL_PAIR =
  /\b((?:[a-z0-9_-]*(?:token|password|passwd|secret|api[_-]?key|credentials?))=)(?!\*\*\*)[^\s&#"'<>`]+/gi;

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((param) => {
      if (param === '') return param;
      const eq = param.indexOf('=');
      return eq === -1 ? '***' : `${param.slice(0, eq)}=***`;
    })
    .join('&');
}
