/**
 * Checking a log against heads anchored elsewhere (the cluster, or `--head SEQ:HASH`): the
 * chain alone cannot show that its last lines were deleted or that the whole chain was
 * recomputed; a head kept where the writer cannot rewrite it can. Pure.
 */
import type { ChainHead } from './chain.ts';

export interface AnchoredHead extends ChainHead {
  /** Where the anchor was found (`namespace/configmap`, `--head`). */
  source: string;
}

export interface AnchorCheck {
  /** Anchors the log contradicts, with why. */
  problems: string[];
  /** The newest anchor the log matches. */
  anchoredSeq: number | undefined;
  /** Records after the newest matching anchor (not anchored yet). */
  unanchored: number;
}

export function checkAnchors(
  log: { head: ChainHead; hashes: ReadonlyMap<number, string>; seqs: readonly number[] },
  anchors: readonly AnchoredHead[],
): AnchorCheck {
  const problems: string[] = [];
  let anchoredSeq: number | undefined;
  for (const a of anchors) {
    if (a.seq > log.head.seq) {
      problems.push(
        `${a.source} anchors seq ${a.seq}, but the log ends at seq ${log.head.seq}: records after it were deleted`,
      );
      continue;
    }
    const hash = log.hashes.get(a.seq);
    if (hash === undefined) problems.push(`${a.source} anchors seq ${a.seq}, which the log does not have`);
    else if (hash !== a.hash)
      problems.push(`${a.source} anchors seq ${a.seq} with another hash: the log was rewritten up to there`);
    else anchoredSeq = Math.max(anchoredSeq ?? 0, a.seq);
  }
  const unanchored = log.seqs.filter((s) => s > (anchoredSeq ?? 0)).length;
  return { problems, anchoredSeq, unanchored };
}

/** `SEQ:HASH` as `--head` takes it. */
export function parseHead(text: string): ChainHead | undefined {
  const m = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  return m ? { seq: Number(m[1]), hash: m[2]! } : undefined;
}
