/**
 * Names from a repository (file paths, directories, object names) are printed escaped: a name
 * holding terminal escapes, carriage returns or newlines could otherwise clear the screen,
 * recolour it, or forge lines of output ("error: ..." lines that Tether never wrote).
 */

/**
 * C0 controls (newline and tab included), DEL, C1 controls, the Unicode line and paragraph
 * separators, and the bidirectional overrides and isolates that reorder how text is shown.
 */
// eslint-disable-next-line no-control-regex -- matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same without newline and tab, for messages that are several lines on purpose. */
// eslint-disable-next-line no-control-regex -- matching them is the point
const UNSAFE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  return SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * A name as it may be printed: control characters written JSON-style (`\n`, `\u001b`), so
 * it stays on one line and cannot drive the terminal. Ordinary names come back unchanged.
 */
export function escapeName(name: string): string {
  return name.replace(UNSAFE, escapeOne);
}

/**
 * Text bound for a terminal or a log line: like escapeName, but newlines and tabs stay (the
 * message is meant to span lines; the names inside it were escaped with escapeName).
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE_IN_TEXT, escapeOne);
}
