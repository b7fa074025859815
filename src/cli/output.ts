/** How the CLI talks to people: one clear error line plus a hint; stack traces only with --debug. */
import { redactUrl, TetherError } from '../errors.ts';
import { escapeControls } from '../util/escape.ts';

export type OutputFormat = 'text' | 'json' | 'markdown' | 'junit';

/**
 * What an error may print: credentials in URLs redacted, and control characters escaped (a
 * message quotes file names, a renderer's output and the API server, none of which may drive
 * the terminal). Line breaks stay: an error listing several problems has one per line.
 */
export function safeText(text: string): string {
  return escapeControls(redactUrl(text));
}

export function printError(e: unknown, debug: boolean): void {
  const message = e instanceof Error ? e.message : String(e);
  // A progress line may be on screen: clear it first.
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  process.stderr.write(`error: ${safeText(message)}\n`);
  if (e instanceof TetherError && e.hint) process.stderr.write(`hint: ${safeText(e.hint)}\n`);
  else if (!(e instanceof TetherError) && !debug)
    process.stderr.write('hint: run again with --debug for details\n');
  if (debug && e instanceof Error && e.stack) process.stderr.write(safeText(e.stack) + '\n');
}

export class UsageError extends TetherError {}
