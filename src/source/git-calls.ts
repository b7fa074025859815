// Calls into isomorphic-git, with what each kind of call needs said once. A network call
// (fetch, push) against a remote source gets our HTTP client, the URL without credentials,
// a copy of the authorization header (isomorphic-git may add to the headers it is given),
// the store's gitdir and cache; its failures come out as SourceErrors. An ancestry walk on
// a shallow cache treats missing history as "not a descendant".
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
      url: ctx.target.url,
      headers: { ...ctx.headers },
    });
  } catch (raw) {
    const err = toSourceError(raw, ctx.target);
    throw refine ? refine(err, raw) : err;
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
