/**
 * Keeps a flood of rejected requests from becoming a flood of log lines: each message is
 * logged at most `burst` times per `windowMs`; the next line logged after a quiet spell says how
 * many were left out (`suppressed`).
 */
export type LimitedLog = (msg: string, write: (extra: { suppressed?: number }) => void) => void;

export function limitLog(burst = 10, windowMs = 60_000, now: () => number = Date.now): LimitedLog {
  const state = new Map<string, { since: number; count: number; suppressed: number }>();
  return (msg, write) => {
    const t = now();
    let s = state.get(msg);
    if (s === undefined || t - s.since >= windowMs) {
      s = { since: t, count: 0, suppressed: s?.suppressed ?? 0 };
      state.set(msg, s);
    }
    if (s.count >= burst) {
      s.suppressed++;
      return;
    }
    s.count++;
    const suppressed = s.suppressed;
    s.suppressed = 0;
    write(suppressed > 0 ? { suppressed } : {});
  };
}
