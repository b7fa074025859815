// A remote (HTTPS) source: its transport target, HTTP client and cache directory, plus the
// two network operations on it: list refs (one request) and fetch a commit into the cache.
import { fetch as gitFetch, writeRef } from 'isomorphic-git';
import type { HttpClient } from 'isomorphic-git';
import { basicAuthHeader, remoteTarget } from './credentials.ts';
import { repoCacheDir } from './cache.ts';
import { shortSha } from '../util/sha.ts';
import { CommitNotFoundError } from './errors.ts';
import { callRemote } from './git-calls.ts';
import { DEFAULT_TIMEOUT_MS, makeHttpClient } from './http.ts';
import { lsRefs } from './ls-refs.ts';
import { pickRef, refNotFound, refPrefixes, type ResolvedRef } from './resolve.ts';
import { fs, hasObject, type ObjectStore } from './store.ts';
import { toSourceError, type TransportTarget } from './transport-errors.ts';
import type { SourceSpec } from './types.ts';

export interface RemoteContext {
  target: TransportTarget;
  http: HttpClient;
  /** Per-repository cache directory. */
  cacheDir: string;
  headers: Record<string, string>;
}

export function remoteContext(spec: SourceSpec, maxResponseBytes?: number): RemoteContext {
  const { url, credentials } = remoteTarget(spec);
  const target: TransportTarget = { url, credentials, timeoutMs: spec.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  return {
    target,
    http: makeHttpClient({
      target,
      ...(spec.caFile !== undefined ? { caFile: spec.caFile } : {}),
      ...(spec.onRequest ? { onRequest: spec.onRequest } : {}),
      ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {}),
    }),
    cacheDir: repoCacheDir(spec.cacheDir, url),
    headers: credentials ? { authorization: basicAuthHeader(credentials) } : {},
  };
}

/** Resolves `ref` with one ls-refs request; throws RefNotFoundError when it names nothing. */
export async function resolveRemote(ctx: RemoteContext, ref: string | undefined): Promise<ResolvedRef> {
  const found = await lookupRemote(ctx, ref);
  if (!found) throw refNotFound(ref, ctx.target.url);
  return found;
}

/** Like resolveRemote, but undefined (not an error) when the ref does not exist. */
export async function lookupRemote(
  ctx: RemoteContext,
  ref: string | undefined,
): Promise<ResolvedRef | undefined> {
  const direct = pickRef([], ref);
  if (direct?.kind === 'commit') return direct; // a sha names itself: no request
  try {
    return pickRef(await lsRefs(ctx.http, ctx.target, refPrefixes(ref)), ref);
  } catch (err) {
    throw toSourceError(err, ctx.target);
  }
}

/** The cache ref that records where `resolved` was last fetched (used as a `have`). */
export function localRefFor(resolved: ResolvedRef): string | undefined {
  return resolved.kind === 'branch' || resolved.kind === 'tag' ? resolved.ref : undefined;
}

/**
 * Fetches `sha` into the cache at `store` (caller holds the cache lock): single commit, `depth`
 * commits deep, with the cache's copy of the ref as the `have`, so the server sends only
 * what is new. Records the ref in the cache afterwards.
 */
export async function fetchInto(
  ctx: RemoteContext,
  store: ObjectStore,
  sha: string,
  localRef: string | undefined,
  depth: number,
): Promise<void> {
  await callRemote(
    ctx,
    store,
    (args) =>
      gitFetch({
        ...args,
        ...(localRef ? { ref: localRef } : { ref: 'HEAD' }),
        remoteRef: sha,
        singleBranch: true,
        tags: false,
        depth,
      }),
    (e) =>
      e.name === 'ProtocolError' && /not our ref|NotFoundError|upload-pack: not our/i.test(e.message)
        ? new CommitNotFoundError(`commit ${sha} not found in ${ctx.target.url}`, {
            hint: 'check the sha; it must be reachable from a branch or tag of the repository',
            cause: e.cause,
          })
        : e,
  );
  if (!(await hasObject(store, sha))) {
    throw new CommitNotFoundError(`${ctx.target.url} did not send commit ${shortSha(sha)}`, {
      hint: 'check the sha; it must be reachable from a branch or tag of the repository',
    });
  }
  if (localRef) await writeRef({ fs, gitdir: store.gitdir, ref: localRef, value: sha, force: true });
}
