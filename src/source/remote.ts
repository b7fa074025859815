// A remote source (HTTPS or SSH): its transport target, the HTTP client isomorphic-git
// talks through (for ssh, one that carries its requests over ssh connections), its ref
// listing and cache directory, plus the two network operations on it: list refs (one
// request or connection) and fetch a commit into the cache.
import { fetch as gitFetch, writeRef } from 'isomorphic-git';
import type { HttpClient } from 'isomorphic-git';
import { basicAuthHeader, remoteTarget } from './credentials.ts';
import { repoCacheDir } from './cache.ts';
import { shortSha } from '../util/sha.ts';
import { CommitNotFoundError } from './errors.ts';
import { callRemote } from './git-calls.ts';
import { DEFAULT_TIMEOUT_MS, makeHttpClient } from './http.ts';
import { lsRefs, type RemoteRef } from './ls-refs.ts';
import { defaultKnownHostsFile, makeSshHttpClient, sshLsRefs, type SshTransport } from './ssh.ts';
import { isSshUrl, parseSshUrl } from './ssh-url.ts';
import { pickRef, refNotFound, refPrefixes, type ResolvedRef } from './resolve.ts';
import { fs, hasObject, type ObjectStore } from './store.ts';
import { toSourceError, type TransportTarget } from './transport-errors.ts';
import type { SourceSpec } from './types.ts';

export interface RemoteContext {
  target: TransportTarget;
  http: HttpClient;
  /** The URL isomorphic-git is given (for ssh, a stand-in that only `http` understands). */
  gitUrl: string;
  /** Per-repository cache directory. */
  cacheDir: string;
  headers: Record<string, string>;
  /** The refs under `prefixes`: one request (https) or one connection (ssh). */
  listRefs: (prefixes: string[]) => Promise<RemoteRef[]>;
  /** Called after each isomorphic-git network call: ends what `http` may hold open (ssh). */
  idle?: () => void;
}

/** What isomorphic-git is told the URL of an ssh remote is; the ssh HTTP plugin ignores the host. */
const SSH_STANDIN_URL = 'http://git-over-ssh.invalid/repo';

export function remoteContext(spec: SourceSpec, maxResponseBytes?: number): RemoteContext {
  if (isSshUrl(spec.repo)) return sshContext(spec, maxResponseBytes);
  const { url, credentials } = remoteTarget(spec);
  const target: TransportTarget = { url, credentials, timeoutMs: spec.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  const http = makeHttpClient({
    target,
    ...(spec.caFile !== undefined ? { caFile: spec.caFile } : {}),
    ...(spec.onRequest ? { onRequest: spec.onRequest } : {}),
    ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {}),
  });
  return {
    target,
    http,
    gitUrl: url,
    cacheDir: repoCacheDir(spec.cacheDir, url),
    headers: credentials ? { authorization: basicAuthHeader(credentials) } : {},
    listRefs: (prefixes) => lsRefs(http, target, prefixes),
  };
}

function sshContext(spec: SourceSpec, maxResponseBytes?: number): RemoteContext {
  const location = parseSshUrl(spec.repo);
  const target: TransportTarget = {
    url: spec.repo.replace(/\/+$/, ''),
    credentials: undefined,
    timeoutMs: spec.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const transport: SshTransport = {
    location,
    target,
    keyFile: spec.sshKeyFile,
    knownHostsFile: spec.knownHostsFile ?? defaultKnownHostsFile(),
    ...(spec.onRequest ? { onRequest: spec.onRequest } : {}),
    ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {}),
  };
  const http = makeSshHttpClient(transport);
  return {
    target,
    http,
    idle: http.idle,
    gitUrl: SSH_STANDIN_URL,
    cacheDir: repoCacheDir(spec.cacheDir, location.canonical),
    headers: {},
    listRefs: (prefixes) => sshLsRefs(transport, prefixes),
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
    return pickRef(await ctx.listRefs(refPrefixes(ref)), ref);
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
