/** Capped exponential backoff with jitter, so many watches that broke together don't retry in step. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private nextMs: number;

  constructor(initialMs = 100, maxMs = 5_000) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.nextMs = initialMs;
  }

  /** The delay before the next attempt; each call doubles the following one, up to the cap. */
  next(): number {
    const base = this.nextMs;
    this.nextMs = Math.min(this.maxMs, base * 2);
    return Math.min(this.maxMs, Math.round(base * (0.8 + Math.random() * 0.4)));
  }

  reset(): void {
    this.nextMs = this.initialMs;
  }
}
