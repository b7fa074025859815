/** How the CLI talks to people: one clear error line plus a hint; stack traces only with --debug. */
import { redactUrl, TetherError } from '../errors.ts';

export type OutputFormat = 'text' | 'json' | 'markdown' | 'junit';

export function printError(e: unknown, debug: boolean): void {
  const message = e instanceof Error ? e.message : String(e);
  // A progress line may be on screen: clear it first.
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  process.stderr.write(`error: ${redactUrl(message)}\n`);
  if (e instanceof TetherError && e.hint) process.stderr.write(`hint: ${redactUrl(e.hint)}\n`);
  else if (!(e instanceof TetherError) && !debug)
    process.stderr.write('hint: run again with --debug for details\n');
  if (debug && e instanceof Error && e.stack) process.stderr.write(redactUrl(e.stack) + '\n');
}

export class UsageError extends TetherError {}
