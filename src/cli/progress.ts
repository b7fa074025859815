/**
 * One rewritten status line on a terminal for long work ("dry-run 120/2000"), nothing at all
 * when stderr is not a terminal or the output is for machines (-o json and the like).
 */
export type ProgressFn = (phase: string, done: number, total: number) => void;

export interface Progress {
  report: ProgressFn | undefined;
  /** Clears the line (call before printing results). */
  end(): void;
}

export function terminalProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { report: undefined, end: () => {} };
  let shown = false;
  let last = 0;
  return {
    report: (phase, done, total) => {
      const now = Date.now();
      // Repaint at most ten times a second, and always for the last item.
      if (done !== total && now - last < 100) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${phase} ${done}/${total}`);
    },
    end: () => {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}
