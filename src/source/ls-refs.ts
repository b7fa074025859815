// One ref request per poll: a protocol v2 `ls-refs` POST with ref prefixes, sent without the
// capability-advertisement GET that isomorphic-git's listServerRefs makes first (git's
// stateless HTTP accepts a v2 command directly). Only when that answer is not a v2 ref list
// do we GET /info/refs, which both diagnoses the failure (auth, 404, not a git server) and
// serves protocol v0/v1 servers.
import { Readable } from 'node:stream';
import type { HttpClient } from 'isomorphic-git';
import { basicAuthHeader } from './credentials.ts';
import { ProtocolError } from './errors.ts';
import { DELIM, FLUSH, parsePktLines, pkt } from './pkt-line.ts';
import { notGitServer, statusError, type TransportTarget } from './transport-errors.ts';

export interface RemoteRef {
  ref: string;
  oid: string;
  /** For a symbolic ref (HEAD): the ref it points at. */
  target?: string;
  /** For an annotated tag: the object it points at. */
  peeled?: string;
}

async function readAll(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

function authHeaders(target: TransportTarget): Record<string, string> {
  return target.credentials ? { authorization: basicAuthHeader(target.credentials) } : {};
}

/** A v2 ls-refs answer (pkt-lines up to the flush); undefined when it is not one. */
export function parseV2(buf: Buffer): RemoteRef[] | undefined {
  let lines;
  try {
    lines = parsePktLines(buf);
  } catch {
    return undefined;
  }
  if (lines.at(-1) !== 'flush') return undefined;
  const refs: RemoteRef[] = [];
  for (const line of lines) {
    if (typeof line === 'string') continue;
    const text = line.toString('utf8').replace(/\n$/, '');
    if (text.startsWith('ERR ')) return undefined;
    const [oid, ref, ...attrs] = text.split(' ');
    if (!oid || !ref || !/^[0-9a-f]{40}$/.test(oid)) return undefined;
    const r: RemoteRef = { ref, oid };
    for (const attr of attrs) {
      if (attr.startsWith('symref-target:')) r.target = attr.slice('symref-target:'.length);
      else if (attr.startsWith('peeled:')) r.peeled = attr.slice('peeled:'.length);
    }
    refs.push(r);
  }
  return refs;
}

/** Parses a v0/v1 `info/refs` advertisement into the same shape. */
export function parseV1(buf: Buffer): RemoteRef[] {
  const refs = new Map<string, RemoteRef>();
  const symrefs = new Map<string, string>();
  for (const line of parsePktLines(buf)) {
    if (typeof line === 'string') continue;
    let text = line.toString('utf8').replace(/\n$/, '');
    if (text.startsWith('#')) continue;
    const nul = text.indexOf('\0');
    if (nul >= 0) {
      for (const cap of text.slice(nul + 1).split(' ')) {
        const m = /^symref=([^:]+):(.+)$/.exec(cap);
        if (m?.[1] && m[2]) symrefs.set(m[1], m[2]);
      }
      text = text.slice(0, nul);
    }
    const [oid, name] = text.split(' ');
    if (!oid || !name || name === 'capabilities^{}') continue;
    if (name.endsWith('^{}')) {
      const base = refs.get(name.slice(0, -3));
      if (base) base.peeled = oid;
      continue;
    }
    refs.set(name, { ref: name, oid });
  }
  for (const [name, target] of symrefs) {
    const r = refs.get(name);
    if (r) r.target = target;
  }
  return [...refs.values()];
}

/** A protocol v2 `ls-refs` command with symrefs, peeled tags and ref prefixes. */
export function lsRefsRequest(prefixes: string[]): Buffer {
  return Buffer.concat([
    pkt('command=ls-refs\n'),
    pkt('agent=tether\n'),
    DELIM,
    pkt('symrefs\n'),
    pkt('peel\n'),
    ...prefixes.map((p) => pkt(`ref-prefix ${p}\n`)),
    FLUSH,
  ]);
}

/** Lists the refs whose names start with one of `prefixes`, with symref targets and peeled tags. */
export async function lsRefs(
  http: HttpClient,
  target: TransportTarget,
  prefixes: string[],
): Promise<RemoteRef[]> {
  const body = lsRefsRequest(prefixes);
  const res = await http.request({
    url: `${target.url}/git-upload-pack`,
    method: 'POST',
    headers: {
      ...authHeaders(target),
      'content-type': 'application/x-git-upload-pack-request',
      accept: 'application/x-git-upload-pack-result',
      'git-protocol': 'version=2',
    },
    body: Readable.from([body])[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>,
  });
  const answer = await readAll(res.body);
  if (res.statusCode === 200 && res.headers?.['content-type'] === 'application/x-git-upload-pack-result') {
    const refs = parseV2(answer);
    if (refs) return refs;
  }
  return discover(http, target, prefixes);
}

/** GET /info/refs: explains a failed ls-refs, or lists refs of a server without protocol v2. */
async function discover(http: HttpClient, target: TransportTarget, prefixes: string[]): Promise<RemoteRef[]> {
  const res = await http.request({
    url: `${target.url}/info/refs?service=git-upload-pack`,
    method: 'GET',
    headers: { ...authHeaders(target), 'git-protocol': 'version=2' },
  });
  const answer = await readAll(res.body);
  if (res.statusCode !== 200) throw statusError(res.statusCode, target);
  const type = res.headers?.['content-type'] ?? '';
  if (type !== 'application/x-git-upload-pack-advertisement') {
    throw notGitServer(target, type, answer.subarray(0, 200).toString('utf8'));
  }
  let refs: RemoteRef[];
  try {
    if (answer.includes('version 2\n')) {
      throw new Error('the server advertises protocol v2 but rejected an ls-refs command');
    }
    refs = parseV1(answer);
  } catch (err) {
    throw new ProtocolError(`cannot list the refs of ${target.url}: ${(err as Error).message}`, {
      hint: 'the server does not follow the git smart-HTTP protocol',
    });
  }
  return refs.filter((r) => prefixes.some((p) => r.ref.startsWith(p)));
}
