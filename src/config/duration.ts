import { InvalidDurationError } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** Go-style durations without the exotic units: `500ms`, `30s`, `1m30s`, `1.5h`. */
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

export const DURATION_EXAMPLES = '500ms, 30s, 1m30s, 2h';

/** Milliseconds in a duration like `30s`, `1m30s`, `2h` or `500ms`. Throws InvalidDurationError. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (!WHOLE.test(s)) {
    throw new InvalidDurationError(
      `${JSON.stringify(text)} is not a duration (use e.g. ${DURATION_EXAMPLES})`,
      {
        hint: /^\d+(\.\d+)?$/.test(s) ? `add a unit: ${s}s` : `write a number followed by ms, s, m or h`,
      },
    );
  }
  let ms = 0;
  for (const [, amount, unit] of s.matchAll(PART)) ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? 0);
  return Math.round(ms);
}
