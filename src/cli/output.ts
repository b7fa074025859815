/** How the CLI talks to people: one clear error line plus a hint; stack traces only with --debug. */
import { InvalidArgumentError, type Command } from 'commander';
import { redactUrl, TetherError } from '../errors.ts';
import { escapeControls } from '../util/escape.ts';

export type OutputFormat = 'text' | 'json' | 'yaml' | 'markdown' | 'junit';

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

/** Edit distance (insertions, deletions, substitutions, swapped neighbours) between two strings. */
export function levenshtein(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The choice closest to what was typed, when it is close enough to be a typo (or a prefix). */
export function closest(typed: string, choices: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  let best: { choice: string; distance: number } | undefined;
  for (const choice of choices) {
    const c = choice.toLowerCase();
    const distance = c.startsWith(t) && t.length > 0 ? 0.5 : levenshtein(t, c);
    if (!best || distance < best.distance) best = { choice, distance };
  }
  if (!best) return undefined;
  const limit = Math.max(1, Math.floor(best.choice.length / 3));
  return best.distance <= limit ? best.choice : undefined;
}

/**
 * Every option of the program with fixed choices (-o, --log-level, ...) rejects another value
 * with the allowed ones and the closest: "argument 'jsn' is invalid. Allowed choices are text,
 * json, yaml. Did you mean json?". Call once, after every command is added.
 */
export function suggestChoices(program: Command): void {
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program)) {
    for (const item of [...cmd.options, ...cmd.registeredArguments]) {
      const choices = item.argChoices;
      if (choices) item.argParser(choiceParser(choices));
    }
  }
}

function choiceParser(choices: readonly string[]): (value: string) => string {
  return (value) => {
    if (choices.includes(value)) return value;
    const guess = closest(value, choices);
    throw new InvalidArgumentError(
      `Allowed choices are ${choices.join(', ')}.${guess ? ` Did you mean ${guess}?` : ''}`,
    );
  };
}
