// Which commit a ref name means, given the refs a repository lists. Shared by remote sources
// (refs from one ls-refs request) and local ones (refs read from disk).
import { AmbiguousRefError, RefNotFoundError } from './errors.ts';
import type { RemoteRef } from './ls-refs.ts';

export type RefKind = 'branch' | 'tag' | 'commit' | 'other';

export interface ResolvedRef {
  sha: string;
  /** Full ref name (`refs/heads/main`), `HEAD` for a detached default, or the sha itself. */
  ref: string;
  kind: RefKind;
}

export function isFullSha(ref: string | undefined): boolean {
  return ref !== undefined && /^[0-9a-f]{40}$/.test(ref);
}

export function kindOf(fullRef: string): RefKind {
  if (fullRef.startsWith('refs/heads/')) return 'branch';
  if (fullRef.startsWith('refs/tags/')) return 'tag';
  return 'other';
}

/** The ls-refs prefixes that can name `ref` (undefined: the default branch via HEAD). */
export function refPrefixes(ref: string | undefined): string[] {
  if (ref === undefined || ref === 'HEAD') return ['HEAD'];
  if (ref.startsWith('refs/')) return [ref];
  return [`refs/heads/${ref}`, `refs/tags/${ref}`];
}

/** Picks the commit `ref` names among `refs`; undefined when it names nothing. */
export function pickRef(refs: RemoteRef[], ref: string | undefined): ResolvedRef | undefined {
  if (ref !== undefined && isFullSha(ref)) return { sha: ref, ref, kind: 'commit' };
  const byName = new Map(refs.map((r) => [r.ref, r]));
  if (ref === undefined || ref === 'HEAD') {
    const head = byName.get('HEAD');
    if (!head) return undefined;
    if (head.target) return { sha: head.oid, ref: head.target, kind: kindOf(head.target) };
    return { sha: head.oid, ref: 'HEAD', kind: 'other' };
  }
  const candidates = refPrefixes(ref)
    .map((name) => byName.get(name))
    .filter((r): r is RemoteRef => r !== undefined);
  if (candidates.length > 1) {
    throw new AmbiguousRefError(`ref ${ref} is both a branch and a tag`, {
      hint: `say refs/heads/${ref} or refs/tags/${ref}`,
    });
  }
  const hit = candidates[0];
  if (!hit) return undefined;
  return { sha: hit.peeled ?? hit.oid, ref: hit.ref, kind: kindOf(hit.ref) };
}

export function refNotFound(ref: string | undefined, where: string): RefNotFoundError {
  if (ref === undefined || ref === 'HEAD') {
    return new RefNotFoundError(`${where} has no default branch (HEAD points at nothing; is it empty?)`, {
      hint: 'push a first commit, or set ref to an existing branch',
    });
  }
  return new RefNotFoundError(`ref ${ref} not found in ${where}`, {
    hint: 'check the branch or tag name; the repository itself was found',
  });
}
