// Revision expressions as git reads them (gitrevisions(7)), the part that names one commit:
// a base (branch, tag, full ref, HEAD or @, a full or abbreviated sha) followed by a chain of
// `~N` (N-th first-parent ancestor), `^N` (N-th parent), `~` and `^` (N = 1) and `^{}` /
// `^{commit}` (peel a tag). Ranges, reflogs and `:path` name something else and are refused.
// Pure: rev-resolve.ts looks the base up and walks the parents.
import { InvalidRevisionError } from './errors.ts';

export type RevStep =
  /** `~N`: the N-th generation ancestor, following first parents. */
  | { op: 'ancestor'; n: number }
  /** `^N`: the N-th parent (`^0` is the commit itself). */
  | { op: 'parent'; n: number }
  /** `^{}` or `^{commit}`: the commit a tag points at. */
  | { op: 'peel' };

export interface Revision {
  /** The expression as given. */
  text: string;
  /** What the chain starts from: a ref name, HEAD, or hex digits of a sha. */
  base: string;
  steps: RevStep[];
}

const FORMS = 'a branch, tag, HEAD, a sha (at least 4 hex digits), followed by ~N, ^N, ~ or ^';

function invalid(text: string, why: string): InvalidRevisionError {
  return new InvalidRevisionError(`revision ${JSON.stringify(text)}: ${why}`, {
    hint: `give one commit: ${FORMS} (e.g. HEAD~1, main^2, v1.2^, 0d521c6)`,
  });
}

/** At least 4 hex digits, at most 40: what git would try as an abbreviated object name. */
export function isShaPrefix(text: string): boolean {
  return /^[0-9a-fA-F]{4,40}$/.test(text);
}

export function parseRevision(text: string): Revision {
  if (text.trim() === '') throw invalid(text, 'empty');
  if (text.includes('..')) throw invalid(text, 'a range names many commits, not one');
  if (text.includes('@{')) throw invalid(text, 'reflog entries (@{...}) are not read');
  if (text.includes(':')) throw invalid(text, 'a path (rev:path) names a file, not a commit');
  const cut = text.search(/[~^]/);
  const rawBase = cut < 0 ? text : text.slice(0, cut);
  if (rawBase === '') throw invalid(text, 'nothing before ~ or ^ (say HEAD~1)');
  if (/\s/.test(rawBase)) throw invalid(text, 'a name cannot contain spaces');
  const base = rawBase === '@' ? 'HEAD' : rawBase;
  const steps: RevStep[] = [];
  const rest = cut < 0 ? '' : text.slice(cut);
  const step = /^(?:~(\d*)|\^\{(commit)?\}|\^(\d*))/;
  let i = 0;
  while (i < rest.length) {
    const m = step.exec(rest.slice(i));
    if (!m) throw invalid(text, `cannot read ${JSON.stringify(rest.slice(i))}`);
    if (m[1] !== undefined) steps.push({ op: 'ancestor', n: m[1] === '' ? 1 : Number(m[1]) });
    else if (m[0].startsWith('^{')) steps.push({ op: 'peel' });
    else steps.push({ op: 'parent', n: m[3] === '' ? 1 : Number(m[3]) });
    i += m[0].length;
  }
  return { text, base, steps };
}
