// Read access to a git object store (a bare cache or a local repository's gitdir). Reads
// go through our native-zlib ObjectReader; isomorphic-git (which needs `cache`) is used for
// fetch, push, writes and ancestry walks. Each operation opens its own store and closes it:
// cached pack indexes and open pack files must not outlive the operation in a long-running
// agent (packs come and go with fetches, rebuilds and a local `git gc`).
import * as fs from 'node:fs';
import { CommitNotFoundError } from './errors.ts';
import { ObjectReader } from './objects.ts';
import type { CommitInfo, Person } from './types.ts';

export interface ObjectStore {
  gitdir: string;
  /** isomorphic-git's cache object for calls into isomorphic-git. */
  cache: object;
  readonly objects: ObjectReader;
}

export interface Signature {
  name: string;
  email: string;
  timestamp: number;
  /** Minutes, git's sign convention inverted like JavaScript's getTimezoneOffset. */
  timezoneOffset: number;
}

export interface ParsedCommit {
  tree: string;
  parent: string[];
  author: Signature;
  committer: Signature;
  message: string;
}

export interface TreeEntry {
  mode: string;
  path: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

// Safety net: pack file descriptors of a store nobody closed are closed when it is collected.
const leaks = new FinalizationRegistry<ObjectReader>((reader) => reader.close());

export function openStore(gitdir: string): ObjectStore {
  let reader: ObjectReader | undefined;
  const store = {
    gitdir,
    cache: {},
    get objects(): ObjectReader {
      if (!reader) {
        reader = new ObjectReader(gitdir);
        leaks.register(store, reader, store);
      }
      return reader;
    },
    close(): void {
      reader?.close();
      leaks.unregister(store);
      reader = undefined;
    },
  };
  return store;
}

export function closeStore(store: ObjectStore): void {
  (store as { close?: () => void }).close?.();
}

export { fs };

export async function hasObject(store: ObjectStore, oid: string): Promise<boolean> {
  await Promise.resolve();
  return store.objects.has(oid);
}

function read(store: ObjectStore, oid: string, type: string): Buffer {
  const o = store.objects.read(oid);
  if (!o) throw new CommitNotFoundError(`object ${oid} not found in ${store.gitdir}`);
  if (o.type !== type) throw new CommitNotFoundError(`${oid} is a ${o.type}, not a ${type}`);
  return o.data;
}

function parseSignature(text: string): Signature {
  const m = /^(.*?) ?<([^>]*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (!m) return { name: text, email: '', timestamp: 0, timezoneOffset: 0 };
  const minutes = Number(m[5]) * 60 + Number(m[6]);
  return {
    name: m[1]!,
    email: m[2]!,
    timestamp: Number(m[3]),
    timezoneOffset: m[4] === '-' ? minutes : -minutes,
  };
}

export function parseCommit(raw: Buffer): ParsedCommit {
  const text = raw.toString('utf8');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const c: ParsedCommit = {
    tree: '',
    parent: [],
    author: parseSignature(''),
    committer: parseSignature(''),
    message: end < 0 ? '' : text.slice(end + 2),
  };
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) continue; // continuation of a multi-line header (gpgsig)
    const sp = line.indexOf(' ');
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (key === 'tree') c.tree = value;
    else if (key === 'parent') c.parent.push(value);
    else if (key === 'author') c.author = parseSignature(value);
    else if (key === 'committer') c.committer = parseSignature(value);
  }
  return c;
}

export async function readCommitObject(store: ObjectStore, sha: string): Promise<ParsedCommit> {
  await Promise.resolve();
  const o = store.objects.read(sha);
  if (!o || o.type !== 'commit') {
    throw new CommitNotFoundError(o ? `${sha} is a ${o.type}, not a commit` : `commit ${sha} not found`);
  }
  return parseCommit(o.data);
}

function person(p: Signature): Person {
  return { name: p.name, email: p.email, time: new Date(p.timestamp * 1000).toISOString() };
}

export async function commitInfo(store: ObjectStore, sha: string): Promise<CommitInfo> {
  const c = await readCommitObject(store, sha);
  return {
    sha,
    author: person(c.author),
    committer: person(c.committer),
    message: c.message.replace(/\n$/, ''),
    parents: [...c.parent],
  };
}

export async function treeEntries(store: ObjectStore, treeOid: string): Promise<TreeEntry[]> {
  await Promise.resolve();
  const data = read(store, treeOid, 'tree');
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(32, i);
    const nul = data.indexOf(0, sp);
    const mode = data.toString('latin1', i, sp).padStart(6, '0');
    const path = data.toString('utf8', sp + 1, nul);
    const oid = data.toString('hex', nul + 1, nul + 21);
    out.push({ mode, path, oid, type: mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob' });
    i = nul + 21;
  }
  return out;
}

export async function blobContent(store: ObjectStore, oid: string): Promise<Uint8Array> {
  await Promise.resolve();
  return read(store, oid, 'blob');
}

/** The raw commit object (headers and message), for signature checks. */
export async function rawCommit(store: ObjectStore, sha: string): Promise<Buffer> {
  await Promise.resolve();
  return read(store, sha, 'commit');
}
