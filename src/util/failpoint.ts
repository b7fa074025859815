/**
 * Named points where a fault test makes the process die or freeze at an exact step:
 * `TETHER_FAILPOINTS="after-inventory=kill,after-apply-object=kill@5"` SIGKILLs the process
 * the first (or the 5th) time it passes that point; `=stop` SIGSTOPs it instead. How the
 * fault tests kill an agent between two writes, which a signal from outside cannot aim at.
 * Unset (always, outside tests), a failpoint is one Map lookup.
 */
type Action = { signal: 'SIGKILL' | 'SIGSTOP'; at: number };

function parse(spec: string | undefined): Map<string, Action> {
  const out = new Map<string, Action>();
  for (const part of (spec ?? '').split(',').filter(Boolean)) {
    const m = /^([a-z-]+)=(kill|stop)(?:@(\d+))?$/.exec(part.trim());
    if (m) out.set(m[1]!, { signal: m[2] === 'kill' ? 'SIGKILL' : 'SIGSTOP', at: Number(m[3] ?? 1) });
  }
  return out;
}

const points = parse(process.env.TETHER_FAILPOINTS);
const hits = new Map<string, number>();

/** The points the executor passes, in order. */
export type Failpoint =
  'before-first-write' | 'after-apply-object' | 'after-prune-object' | 'after-inventory' | 'after-intent';

export function failpoint(name: Failpoint): void {
  if (points.size === 0) return;
  const action = points.get(name);
  if (!action) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n === action.at) process.kill(process.pid, action.signal);
}
