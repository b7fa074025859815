import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AuditChainError,
  AuditFilterError,
  AuditLog,
  iterateAuditLog,
  readAuditLog,
  type AuditFilter,
  type AuditObject,
  type AuditRecord,
} from '../../../src/audit/index.ts';
import { SHA_A, SHA_B, input, tempDir } from './helpers.ts';

const obj = (kind: string, namespace: string, name: string): AuditObject => ({
  apiVersion: 'v1',
  kind,
  namespace,
  name,
  action: 'unchanged',
});
const commit = (sha: string) => ({ ...input().commit!, sha });

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let all: AuditRecord[];
let mid: Date;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'audit.jsonl');
  const log = await AuditLog.open(file);
  all = [];
  all.push(
    await log.append(
      input({ app: 'shop', commit: commit(SHA_A), objects: [obj('Deployment', 'shop', 'web')] }),
    ),
  );
  all.push(
    await log.append(
      input({
        app: 'shop',
        result: 'drift-found',
        commit: commit(SHA_A),
        objects: [obj('Service', 'shop', 'web')],
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 20)); // a clear gap in time between the halves
  mid = new Date();
  await new Promise((r) => setTimeout(r, 20));
  all.push(
    await log.append(input({ app: 'blog', commit: commit(SHA_B), objects: [obj('Namespace', '', 'blog')] })),
  );
  all.push(
    await log.append(
      input({ app: 'blog', result: 'error', commit: null, objects: [], error: 'fetch failed' }),
    ),
  );
  await log.close();
});
afterAll(async () => cleanup());

const seqs = async (filter?: AuditFilter) => (await readAuditLog(file, filter)).map((r) => r.seq);

describe('readAuditLog filters', () => {
  it('returns everything, oldest first, equal to what append returned', async () => {
    expect(await readAuditLog(file)).toEqual(all);
  });

  it('by app and result (exact)', async () => {
    expect(await seqs({ app: 'shop' })).toEqual([1, 2]);
    expect(await seqs({ app: 'sho' })).toEqual([]);
    expect(await seqs({ result: 'drift-found' })).toEqual([2]);
    expect(await seqs({ app: 'blog', result: 'error' })).toEqual([4]);
  });

  it('by commit sha prefix, any case; records without a commit never match', async () => {
    expect(await seqs({ commit: 'aaaa' })).toEqual([1, 2]);
    expect(await seqs({ commit: 'BBB' })).toEqual([3]);
    expect(await seqs({ commit: SHA_B })).toEqual([3]);
    expect(await seqs({ commit: 'c' })).toEqual([]);
    await expect(readAuditLog(file, { commit: 'main' })).rejects.toBeInstanceOf(AuditFilterError);
  });

  it('by object: name, kind/name (kind without case), namespace/kind/name, /kind/name for cluster scope', async () => {
    expect(await seqs({ object: 'web' })).toEqual([1, 2]);
    expect(await seqs({ object: 'deployment/web' })).toEqual([1]);
    expect(await seqs({ object: 'shop/Service/web' })).toEqual([2]);
    expect(await seqs({ object: 'other/Service/web' })).toEqual([]);
    expect(await seqs({ object: 'Namespace/blog' })).toEqual([3]);
    expect(await seqs({ object: '/Namespace/blog' })).toEqual([3]);
    for (const bad of ['', 'a//b', 'a/b/c/d', 'web/']) {
      await expect(readAuditLog(file, { object: bad })).rejects.toBeInstanceOf(AuditFilterError);
    }
  });

  it('by time: since inclusive, until exclusive', async () => {
    expect(await seqs({ since: mid })).toEqual([3, 4]);
    expect(await seqs({ until: mid })).toEqual([1, 2]);
    expect(await seqs({ since: new Date(all[1]!.time), until: new Date(all[2]!.time) })).toEqual([2]);
    await expect(readAuditLog(file, { since: new Date('nope') })).rejects.toBeInstanceOf(AuditFilterError);
  });

  it('streams with iterateAuditLog', async () => {
    const got: number[] = [];
    for await (const r of iterateAuditLog(file, { app: 'blog' })) got.push(r.seq);
    expect(got).toEqual([3, 4]);
  });
});

describe('readAuditLog on a damaged log', () => {
  it('reports a torn last line to the callback, and throws on a broken chain naming the line', async () => {
    const copy = join(dir, 'copy.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(copy, text);
    await appendFile(copy, '{"seq":5');
    const onTornLine = vi.fn();
    expect(await readAuditLog(copy, {}, { onTornLine })).toEqual(all);
    expect(onTornLine).toHaveBeenCalledExactlyOnceWith({ line: 5, bytes: 8 });

    await writeFile(copy, text.replace('"blog"', '"blag"'));
    const err = await readAuditLog(copy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditChainError);
    expect((err as Error).message).toMatch(/hash mismatch .*at line 3/);
  });
});
