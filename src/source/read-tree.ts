// Lists and reads the files of a commit under a path, straight from the object store (no
// worktree). Symlinks resolve inside the commit's tree like a checkout would, but a link
// that is absolute or climbs out of the repository is refused: following it would read
// the agent's own file system. A submodule (gitlink) is refused where files are read: its
// files are not in this repository, and skipping it would make them look deleted (pruned).
import { posix } from 'node:path';
import picomatch from 'picomatch';
import type { TreeEntry } from 'isomorphic-git';
import {
  BrokenSymlinkError,
  InvalidSourceError,
  PathNotFoundError,
  SubmoduleError,
  SymlinkEscapeError,
} from './errors.ts';
import { shortSha } from '../util/sha.ts';
import { blobContent, readCommitObject, treeEntries, type ObjectStore } from './store.ts';
import type { SourceFile } from './types.ts';

const MAX_LINK_HOPS = 40;
const READ_CONCURRENCY = 16;

export interface ReadTreeOptions {
  path?: string;
  include?: string[];
  exclude?: string[];
  /**
   * The whole tree for renderers: a dangling symlink or a submodule somewhere else in the
   * repository is left out instead of refusing the commit (a kustomization that names one
   * is refused by the reference checks, with its file and line).
   */
  lenient?: boolean;
}

/** What a repo path resolves to after following symlinks. */
interface Resolved {
  entry: TreeEntry;
  /** The physical path of the entry ('' for the root tree). */
  path: string;
}

/**
 * Normalizes a user-given path inside the repository; '' is the root. `./x` and `x/` are
 * fine; an absolute path or one climbing out (`../x`, `a/../../b`) is refused, never
 * quietly turned into another directory of the repository.
 */
export function normalizeRepoPath(path: string | undefined): string {
  if (path === undefined) return '';
  const slashed = path.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:\//.test(slashed)) {
    throw new InvalidSourceError(`path ${path} is absolute`, {
      hint: 'give the directory relative to the repository root (e.g. apps/shop)',
    });
  }
  const p = posix
    .normalize(slashed)
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/g, '');
  if (p === '.' || p === '') return '';
  if (p === '..' || p.startsWith('../')) {
    throw new InvalidSourceError(`path ${path} points outside the repository`, {
      hint: 'give a path inside the repository',
    });
  }
  return p;
}

class TreeReader {
  private readonly store: ObjectStore;
  private readonly commit: string;
  private readonly rootTree: string;
  private readonly trees = new Map<string, TreeEntry[]>();

  constructor(store: ObjectStore, commit: string, rootTree: string) {
    this.store = store;
    this.commit = commit;
    this.rootTree = rootTree;
  }

  async entries(oid: string): Promise<TreeEntry[]> {
    let e = this.trees.get(oid);
    if (!e) {
      e = await treeEntries(this.store, oid);
      this.trees.set(oid, e);
    }
    return e;
  }

  private where(file: string): string {
    return `${file} (commit ${shortSha(this.commit)})`;
  }

  submodule(path: string, entry: TreeEntry): SubmoduleError {
    return new SubmoduleError(
      `${this.where(path)}: a git submodule (at commit ${shortSha(entry.oid)}); Tether does not read submodules, and skipping it would count its manifests as deleted, so nothing is applied or pruned`,
      {
        hint: 'vendor the files into this repository, move the app path off the submodule, or exclude it (--exclude / source.exclude)',
      },
    );
  }

  /** Joins a link's target to the link's directory; refuses targets leaving the repository. */
  linkTarget(linkPath: string, target: string): string {
    if (target.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(target)) {
      throw new SymlinkEscapeError(`${this.where(linkPath)}: symlink to absolute path ${target} refused`, {
        hint: 'make the link relative and keep its target inside the repository',
      });
    }
    const joined = posix.normalize(posix.join(posix.dirname(linkPath), target));
    if (joined === '..' || joined.startsWith('../')) {
      throw new SymlinkEscapeError(`${this.where(linkPath)}: symlink to ${target} leaves the repository`, {
        hint: 'keep symlink targets inside the repository',
      });
    }
    return joined === '.' ? '' : joined;
  }

  /**
   * Resolves a physical repo path, following symlinks in every component. `undefined` when
   * some component does not exist. `origin` names the file that asked (for messages).
   */
  async resolve(path: string, origin: string, hops = 0): Promise<Resolved | undefined> {
    let current: Resolved = {
      entry: { mode: '040000', path: '', oid: this.rootTree, type: 'tree' },
      path: '',
    };
    const parts = path === '' ? [] : path.split('/');
    for (let i = 0; i < parts.length; i++) {
      if (current.entry.type === 'commit') throw this.submodule(current.path, current.entry);
      if (current.entry.type !== 'tree') return undefined;
      const name = parts[i]!;
      const entry = (await this.entries(current.entry.oid)).find((e) => e.path === name);
      if (!entry) return undefined;
      const here = current.path === '' ? name : `${current.path}/${name}`;
      if (entry.mode === '120000') {
        if (hops >= MAX_LINK_HOPS) {
          throw new BrokenSymlinkError(`${this.where(origin)}: too many levels of symlinks`, {
            hint: 'remove the symlink loop',
          });
        }
        const target = Buffer.from(await blobContent(this.store, entry.oid)).toString('utf8');
        const rest = parts.slice(i + 1).join('/');
        const next = this.linkTarget(here, target);
        return this.resolve(rest === '' ? next : next === '' ? rest : `${next}/${rest}`, origin, hops + 1);
      }
      current = { entry, path: here };
    }
    return current;
  }

  broken(linkPath: string, target: string): BrokenSymlinkError {
    return new BrokenSymlinkError(`${this.where(linkPath)}: symlink target ${target} does not exist`, {
      hint: 'fix or remove the dangling symlink',
    });
  }
}

function matcher(patterns: string[] | undefined): ((p: string) => boolean) | undefined {
  if (!patterns || patterns.length === 0) return undefined;
  return picomatch(patterns, { dot: true });
}

/**
 * Files of `commit` under `opts.path` (recursively), filtered by include/exclude globs that
 * are matched against the path relative to `opts.path`. Paths returned are repo-relative.
 */
export async function readFiles(
  store: ObjectStore,
  commit: string,
  opts: ReadTreeOptions = {},
): Promise<SourceFile[]> {
  const base = normalizeRepoPath(opts.path);
  const c = await readCommitObject(store, commit);
  const reader = new TreeReader(store, commit, c.tree);
  const include = matcher(opts.include);
  const exclude = matcher(opts.exclude);
  const wanted = (logical: string): boolean => {
    const rel =
      base === '' ? logical : logical === base ? posix.basename(logical) : logical.slice(base.length + 1);
    if (exclude?.(rel)) return false;
    return include ? include(rel) : true;
  };

  const root = await reader.resolve(base, base || '.');
  if (!root) {
    throw new PathNotFoundError(`path ${base} not found in commit ${shortSha(commit)}`, {
      hint: 'check the path (it is relative to the repository root) and the ref',
    });
  }

  // Blobs to read: logical path -> (oid, mode). Collected first, then read with bounded concurrency.
  const blobs: { path: string; oid: string; mode: number }[] = [];

  const visit = async (resolved: Resolved, logical: string, stack: string[]): Promise<void> => {
    const { entry } = resolved;
    if (entry.type === 'commit') {
      // Excluded, or unable to hold a wanted file (probed as a file, a YAML and a JSON file in it).
      const probes = ['', '/x', '/x.yaml', '/x.yml', '/x.json'].map((tail) => logical + tail);
      if (probes.some(wanted) && !opts.lenient) throw reader.submodule(logical, entry);
      return;
    }
    if (entry.type === 'blob') {
      if (wanted(logical)) blobs.push({ path: logical, oid: entry.oid, mode: parseInt(entry.mode, 8) });
      return;
    }
    if (stack.includes(resolved.path)) {
      throw new BrokenSymlinkError(
        `${logical} (commit ${shortSha(commit)}): symlink loop back to ${resolved.path || '/'}`,
        {
          hint: 'remove the symlink loop',
        },
      );
    }
    const inner = [...stack, resolved.path];
    for (const child of await reader.entries(entry.oid)) {
      const physical = resolved.path === '' ? child.path : `${resolved.path}/${child.path}`;
      const childLogical = logical === '' ? child.path : `${logical}/${child.path}`;
      if (child.mode === '120000') {
        const target = Buffer.from(await blobContent(store, child.oid)).toString('utf8');
        const targetPath = reader.linkTarget(physical, target);
        const found = await reader.resolve(targetPath, childLogical);
        if (!found) {
          if (!wanted(childLogical) || opts.lenient) continue;
          throw reader.broken(childLogical, target);
        }
        await visit(found, childLogical, inner);
      } else {
        await visit({ entry: child, path: physical }, childLogical, inner);
      }
    }
  };
  await visit(root, base, []);

  const files: SourceFile[] = new Array<SourceFile>(blobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < blobs.length) {
      const i = next++;
      const b = blobs[i]!;
      files[i] = { path: b.path, content: await blobContent(store, b.oid), mode: b.mode };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, blobs.length) }, worker));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}
