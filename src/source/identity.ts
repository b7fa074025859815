/**
 * What identifies a source, whatever way it is written: the repository (host and path, without
 * credentials, query, port, scheme or `.git`, so that https and ssh spellings of one
 * repository agree; a local repository by its absolute path) and the directory in it. Recorded
 * on every applied object, and the root of an app's default name. Pure.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';

function repositoryKey(repo: string): string {
  // git's bracketed scp-like form with a port, `[git@host:2222]:org/repo.git`: as `git@host:org/repo.git`.
  const bracketed = /^\[(?:[^/@:\s\]]+@)?([^/@\s\]]+):\d+\]:(.+)$/.exec(repo);
  if (bracketed) return repositoryKey(`git@${bracketed[1]}:${bracketed[2]}`);
  const scp = /^[^/\s:@]+@([^/\s:]+):(.*)$/.exec(repo);
  if (scp) return `${scp[1]!.toLowerCase()}/${scp[2]}`.replace(/\.git\/?$|\/+$/g, '');
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) ? URL.parse(repo) : null;
  if (url && url.protocol !== 'file:')
    return `${url.hostname.toLowerCase()}${decodeURIComponent(url.pathname)}`.replace(/\.git\/?$|\/+$/g, '');
  const path = url ? decodeURIComponent(url.pathname) : repo;
  return (isAbsolute(path) ? path : resolve(path)).replace(/\/+$/, '');
}

/** `./apps/shop/` → `apps/shop`; only a leading `./` or `.` goes (`.config` stays itself). */
export function normalizeDir(path: string | undefined): string {
  return (path ?? '').replace(/^(?:\.(?:\/+|$))+/, '').replace(/\/+$/, '');
}

/** `git.example.com/org/deploy//apps/shop`: the repository and the directory in it. */
export function sourceIdentity(repo: string, path: string | undefined): string {
  return `${repositoryKey(repo)}//${normalizeDir(path) || '.'}`;
}

/** 8 hex digits of a source's identity: tells apart apps whose paths end alike. */
export function sourceDigest(repo: string, path: string | undefined): string {
  return createHash('sha256').update(sourceIdentity(repo, path)).digest('hex').slice(0, 8);
}
