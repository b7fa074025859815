/** Pure helpers of the status page: words, times and values as the page shows them. No DOM. */
import { relativeTime } from '../../cli/table.ts';
import type { AppSummary, CommitView, ObjectView } from '../shared/api.ts';

export const shortSha = (sha: string): string => sha.slice(0, 7);

/** The first line of a commit message. */
export const subject = (message: string | null): string => (message ?? '').split('\n')[0]!.trim();

/** `Ada Lovelace <ada@example.com>` -> `Ada Lovelace`. */
export const authorName = (author: string | null): string => (author ?? '').replace(/\s*<[^>]*>$/, '');

/** `3s ago`, `in 25s`, `4m ago` as `tether status` words them; '' for no time. */
export function relative(iso: string | null | undefined, now: number): string {
  return iso ? relativeTime(iso, now) : '';
}

/** A field value as JSON on one line; `(absent)` for a missing one. */
export function value(v: unknown): string {
  if (v === null || v === undefined) return '(absent)';
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
}

/** Whether an object's status is a difference from Git (or a failure). */
export function differs(status: string): boolean {
  return !['in-sync', 'unchanged', 'created', 'configured', 'skipped'].includes(status);
}

/** Tone of a status word, for its badge: ok, warn, bad or none. */
export function tone(word: string | null | undefined): 'ok' | 'warn' | 'bad' | 'none' {
  switch (word) {
    case 'in-sync':
    case 'unchanged':
    case 'Current':
    case 'applied':
    case 'healthy':
    case 'created':
    case 'configured':
    case 'drift-healed':
      return 'ok';
    case 'drifted':
    case 'missing':
    case 'orphaned':
    case 'conflict':
    case 'InProgress':
    case 'Terminating':
    case 'drift-found':
    case 'pending':
    case 'suspended':
    case 'partial':
    case 'intent':
    case 'create':
    case 'update':
    case 'delete':
    case 'orphan':
    case 'recreate':
      return 'warn';
    case 'error':
    case 'failed':
    case 'Failed':
    case 'degraded':
    case 'commit-refused':
    case 'refused':
      return 'bad';
    default:
      return 'none';
  }
}

/** Does the app match a search text (name, source, path, ref, or a commit's sha, subject, author)? */
export function appMatches(app: AppSummary, text: string): boolean {
  const q = text.trim().toLowerCase();
  if (q === '') return true;
  const commit = (c: CommitView | null) => (c ? [c.sha, c.message ?? '', c.author ?? ''] : []);
  return [app.name, app.source, app.path, app.ref ?? '', ...commit(app.seen), ...commit(app.applied)].some(
    (s) => s.toLowerCase().includes(q),
  );
}

export interface KindGroup {
  kind: string;
  objects: ObjectView[];
}

export interface WaveGroup {
  /** null: objects not in the commit (orphans, prunes). */
  wave: number | null;
  kinds: KindGroup[];
}

/** Objects by wave (in order, objects of no wave last), then by kind (alphabetical), then by name. */
export function groupObjects(objects: readonly ObjectView[]): WaveGroup[] {
  const waves = new Map<number | null, Map<string, ObjectView[]>>();
  for (const o of objects) {
    let kinds = waves.get(o.wave);
    if (!kinds) waves.set(o.wave, (kinds = new Map<string, ObjectView[]>()));
    let list = kinds.get(o.kind);
    if (!list) kinds.set(o.kind, (list = []));
    list.push(o);
  }
  const order = (w: number | null) => (w === null ? Number.POSITIVE_INFINITY : w);
  return [...waves]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([wave, kinds]) => ({
      wave,
      kinds: [...kinds]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, list]) => ({
          kind,
          objects: [...list].sort((x, y) =>
            `${x.namespace ?? ''}/${x.name}`.localeCompare(`${y.namespace ?? ''}/${y.name}`),
          ),
        })),
    }));
}

/** Classes of a unified diff's lines: added, removed, hunk header or context. */
export function diffLineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return 'dl-file';
  if (line.startsWith('+')) return 'dl-add';
  if (line.startsWith('-')) return 'dl-del';
  if (line.startsWith('@@')) return 'dl-hunk';
  return '';
}
