// Calls into isomorphic-git, with what each kind of call needs said once. A network call
// (fetch, push) against a remote source gets our HTTP client, the URL without credentials,
// a copy of the authorization header (isomorphic-git may add to the headers it is given),
// the store's gitdir and cache; its failures come out as SourceErrors. An ancestry walk on
// a shallow cache treats missing history as "not a descendant".
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isDescendent } from 'isomorphic-git';
import type { HttpClient } from 'isomorphic-git';
import type { SourceError } from './errors.ts';
import type { RemoteContext } from './remote.ts';
import { fs, type ObjectStore } from './store.ts';
import { toSourceError } from './transport-errors.ts';

/** The arguments every isomorphic-git network call takes for a remote and a local store. */
export interface RemoteCallArgs {
  fs: typeof fs;
  http: HttpClient;
  gitdir: string;
  cache: object;
  url: string;
  headers: Record<string, string>;
}

/**
 * Runs `call` with the arguments for `ctx`'s remote and `store`. A failure is thrown as a
 * SourceError (toSourceError), or as what `refine` makes of that error and the raw one.
 */
export async function callRemote<T>(
  ctx: RemoteContext,
  store: ObjectStore,
  call: (args: RemoteCallArgs) => Promise<T>,
  refine?: (err: SourceError, raw: unknown) => Error,
): Promise<T> {
  try {
    return await call({
      fs,
      http: ctx.http,
      gitdir: store.gitdir,
      cache: store.cache,
      url: ctx.gitUrl,
      headers: { ...ctx.headers },
    });
  } catch (raw) {
    const err = toSourceError(raw, ctx.target);
    throw refine ? refine(err, raw) : err;
  } finally {
    ctx.idle?.();
  }
}

/**
 * True when commit `oid` descends from `ancestor` in `store`. False when it does not, and
 * also when the history between them is missing (a shallow cache): not provably a descendant.
 */
export async function descendsFrom(store: ObjectStore, oid: string, ancestor: string): Promise<boolean> {
  try {
    return await isDescendent({
      fs,
      gitdir: store.gitdir,
      cache: store.cache,
      oid,
      ancestor,
      depth: -1,
    });
  } catch {
    return false;
  }
}

/**
 * The value of `section.key` in git config text (the last one wins, as in git), or
 * undefined. Handles `[section]` and `[section "sub"]` headers (only the plain section
 * matches), comments, quoting and backslash escapes; includes are not followed.
 */
export function gitConfigValue(text: string, section: string, key: string): string | undefined {
  let current = '';
  let value: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)(\s+"(?:[^"\\]|\\.)*")?\s*\](.*)$/.exec(line);
    if (header) {
      current = header[2] ? '' : header[1]!.toLowerCase();
      const rest = header[3]!.trim();
      if (!rest || rest.startsWith('#') || rest.startsWith(';')) continue;
      if (current !== section.toLowerCase()) continue;
      const v = parseEntry(rest, key);
      if (v !== undefined) value = v;
      continue;
    }
    if (current !== section.toLowerCase()) continue;
    const v = parseEntry(line, key);
    if (v !== undefined) value = v;
  }
  return value;
}

function parseEntry(line: string, key: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
  if (!m || m[1]!.toLowerCase() !== key.toLowerCase()) return undefined;
  const rawValue = m[2] ?? '';
  let out = '';
  let quoted = false;
  let pendingSpace = '';
  for (let i = 0; i < rawValue.length; i++) {
    const c = rawValue[i]!;
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c === '#' || c === ';')) break;
    if (c === '\\' && i + 1 < rawValue.length) {
      const n = rawValue[++i]!;
      out += pendingSpace + ({ n: '\n', t: '\t', b: '\b' }[n] ?? n);
      pendingSpace = '';
      continue;
    }
    if (!quoted && /\s/.test(c)) {
      if (out !== '') pendingSpace += c;
      continue;
    }
    out += pendingSpace + c;
    pendingSpace = '';
  }
  return out;
}

/** Where git looks for the user's own settings: ~/.gitconfig, then $XDG_CONFIG_HOME/git/config. */
export function globalGitConfigFiles(): string[] {
  if (process.env.GIT_CONFIG_GLOBAL) return [process.env.GIT_CONFIG_GLOBAL];
  const home = process.env.HOME ?? homedir();
  const xdg = process.env.XDG_CONFIG_HOME || join(home, '.config');
  // git reads the XDG file first and ~/.gitconfig after it, so ~/.gitconfig wins.
  return [join(xdg, 'git', 'config'), join(home, '.gitconfig')];
}

/**
 * user.name and user.email as git would take them for a commit in `gitdir`: the
 * repository's own config over the user's global config. Undefined when either is missing.
 */
export async function configIdentity(
  gitdir: string | undefined,
): Promise<{ name: string; email: string } | undefined> {
  const files = [...globalGitConfigFiles(), ...(gitdir ? [join(gitdir, 'config')] : [])];
  let name: string | undefined;
  let email: string | undefined;
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    name = gitConfigValue(text, 'user', 'name') ?? name;
    email = gitConfigValue(text, 'user', 'email') ?? email;
  }
  return name && email ? { name, email } : undefined;
}

/**
 * The worktree that has `ref` checked out in the repository with (common) gitdir `gitdir`,
 * or undefined: the main worktree unless the repository is bare, and any linked worktree
 * (`<gitdir>/worktrees/<id>`). A push there would leave that worktree and index at the old
 * tree, which git refuses (receive.denyCurrentBranch).
 */
export async function worktreeWithBranch(gitdir: string, ref: string): Promise<string | undefined> {
  const headOf = async (dir: string): Promise<string | undefined> =>
    /^ref:\s*(\S+)/.exec(await readFile(join(dir, 'HEAD'), 'utf8').catch(() => ''))?.[1];
  const common = (await readFile(join(gitdir, 'commondir'), 'utf8').catch(() => '')).trim();
  if (common) {
    // `gitdir` is a linked worktree's own directory: its HEAD, then the whole repository.
    if ((await headOf(gitdir)) === ref) {
      const pointer = (await readFile(join(gitdir, 'gitdir'), 'utf8').catch(() => '')).trim();
      return pointer ? dirname(pointer) : gitdir;
    }
    return worktreeWithBranch(resolve(gitdir, common), ref);
  }
  const config = await readFile(join(gitdir, 'config'), 'utf8').catch(() => '');
  const bareValue = gitConfigValue(config, 'core', 'bare');
  const bare = bareValue === undefined ? basename(gitdir) !== '.git' : /^(true|yes|on|1)$/i.test(bareValue);
  if (!bare && (await headOf(gitdir)) === ref) {
    const work = gitConfigValue(config, 'core', 'worktree');
    return work ? resolve(gitdir, work) : dirname(gitdir);
  }
  const linked = await readdir(join(gitdir, 'worktrees')).catch(() => [] as string[]);
  for (const id of linked) {
    const dir = join(gitdir, 'worktrees', id);
    if ((await headOf(dir)) !== ref) continue;
    const pointer = await readFile(join(dir, 'gitdir'), 'utf8').catch(() => '');
    return pointer.trim() ? dirname(pointer.trim()) : dir;
  }
  return undefined;
}
