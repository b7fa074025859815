/**
 * Evaluations keyed by (digest of the desired object, live resourceVersion): the same desired
 * object against the same live object gives the same dry-run and the same drift, so an
 * unchanged object is neither dry-run nor compared twice. Only objects that differ from the
 * live one keep their dry-run result. Bounded, least recently used first out.
 */
import type { KubeObject } from '../cluster/apply.ts';
import type { FieldDrift } from '../diff/index.ts';
import type { Path } from '../fieldset/index.ts';

export interface CachedEvaluation {
  dryRun: KubeObject | undefined;
  same: boolean;
  drift: FieldDrift[];
  conflicts: FieldDrift[];
  ignored: Path[];
}

export class DryRunCache {
  private readonly entries = new Map<string, CachedEvaluation>();
  private readonly max: number;
  hits = 0;
  misses = 0;

  constructor(max = 50_000) {
    this.max = max;
  }

  static key(digest: string, live: KubeObject | undefined): string {
    return `${digest}@${live?.metadata.resourceVersion ?? 'absent'}`;
  }

  get(key: string): CachedEvaluation | undefined {
    const v = this.entries.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert: Map keeps insertion order, which makes the oldest entry the first one.
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  set(key: string, value: CachedEvaluation): void {
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
