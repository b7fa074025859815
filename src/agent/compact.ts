/**
 * Gives memory back after a burst of work (a new commit loaded, hundreds of dry-runs). V8
 * keeps the heap it grew to during the burst; one full collection shortly after lets it
 * release those pages. Runs only when the agent has --expose-gc, which bin/tether.js sets
 * when it starts the agent; bursts close together share one collection.
 */
const DELAY_MS = 1_000;

/** V8's gc() options: 'last-resort' collects repeatedly in memory-reducing mode, so the heap gives back its pages. */
type Gc = (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

let timer: NodeJS.Timeout | undefined;

export function compactSoon(): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (!gc || timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  }, DELAY_MS);
  timer.unref();
}
