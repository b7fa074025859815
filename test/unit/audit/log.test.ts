import { createHash } from 'node:crypto';
import { appendFile, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditChainError,
  AuditClosedError,
  AuditInputError,
  AuditLog,
  AuditNotFoundError,
  TORN_REASON,
  readAuditLog,
  verifyAuditLog,
  type AuditInput,
  type AuditRecord,
} from '../../../src/audit/index.ts';
import { SHA_B, input, lines, tempDir, writeLines } from './helpers.ts';

/** The failure verify reports, or a test failure if it reports success. */
async function failure(path: string): Promise<{ line: number; records: number; reason: string }> {
  const result = await verifyAuditLog(path);
  if (result.ok) throw new Error(`expected verify to fail, it passed with ${result.records} records`);
  return result;
}

const GENESIS = '0'.repeat(64);

// An independent implementation of the contract's hash, so a bug in the module's own canonical
// form cannot hide itself.
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
function expectedHash(record: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = record;
  return createHash('sha256').update(sortedJson(rest)).digest('hex');
}

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'nested', 'deeper', 'audit.jsonl');
});
afterEach(async () => cleanup());

async function appendAll(inputs: AuditInput[]): Promise<AuditRecord[]> {
  const log = await AuditLog.open(file);
  const out: AuditRecord[] = [];
  for (const i of inputs) out.push(await log.append(i));
  await log.close();
  return out;
}

describe('append and verify', () => {
  it('writes three records exactly as the contract says, and verifies them', async () => {
    const before = Date.now();
    const written = await appendAll([
      input(),
      input({ trigger: 'webhook', result: 'in-sync', objects: [] }),
      input({ mode: 'report', result: 'drift-found', revertOf: SHA_B, error: 'boom', details: { n: 1 } }),
    ]);
    const after = Date.now();

    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const parsed = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toHaveLength(3);
    expect(parsed).toEqual(written);

    const base = ['seq', 'time', 'app', 'commit', 'trigger', 'mode', 'result', 'objects', 'prev', 'hash'];
    expect(Object.keys(parsed[0]!).sort()).toEqual([...base].sort());
    expect(Object.keys(parsed[2]!).sort()).toEqual([...base, 'revertOf', 'error', 'details'].sort());
    expect(parsed[0]).toMatchObject({
      seq: 1,
      app: 'shop',
      commit: input().commit,
      trigger: 'poll',
      mode: 'apply',
      result: 'applied',
      objects: input().objects,
      prev: GENESIS,
    });
    expect(parsed[2]).toMatchObject({ revertOf: SHA_B, error: 'boom', details: { n: 1 } });

    parsed.forEach((rec, i) => {
      expect(rec['seq']).toBe(i + 1);
      expect(rec['prev']).toBe(i === 0 ? GENESIS : parsed[i - 1]!['hash']);
      expect(rec['hash']).toMatch(/^[0-9a-f]{64}$/);
      expect(rec['hash']).toBe(expectedHash(rec));
      const t = Date.parse(rec['time'] as string);
      expect(new Date(t).toISOString()).toBe(rec['time']);
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(after);
    });

    expect(await verifyAuditLog(file, { seqs: new Set([2]) })).toEqual({
      ok: true,
      records: 3,
      head: { seq: 3, hash: parsed[2]!['hash'] },
      first: parsed[0]!['hash'],
      seqs: [1, 2, 3],
      hashes: new Map([[2, parsed[1]!['hash']]]),
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
  });

  it('continues the chain after reopening, and reports its head', async () => {
    await appendAll([input(), input()]);
    const log = await AuditLog.open(file);
    const third = await log.append(input());
    await log.close();
    expect(third.seq).toBe(3);
    expect(log.head).toEqual({ seq: 3, hash: third.hash });
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 3 });
  });

  it('queues concurrent appends of one process (no interleaving, consecutive seq)', async () => {
    const log = await AuditLog.open(file);
    const other = await AuditLog.open(file); // a second handle in the same process: kept out by the lock
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? other : log).append(input({ details: { i } }))),
    );
    await Promise.all([log.close(), other.close()]);
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 60 });
    // Appends of one instance keep their call order.
    const mine = results.filter((_, i) => i % 3 !== 0).map((r) => r.seq);
    expect(mine).toEqual([...mine].sort((a, b) => a - b));
  });

  it('verifies an empty log, refuses a missing one', async () => {
    await (await AuditLog.open(file)).close();
    expect(await verifyAuditLog(file)).toEqual({
      ok: true,
      records: 0,
      head: { seq: 0, hash: GENESIS },
      first: undefined,
      seqs: [],
      hashes: new Map(),
    });
    await expect(verifyAuditLog(join(dir, 'nope.jsonl'))).rejects.toBeInstanceOf(AuditNotFoundError);
    await expect(readAuditLog(join(dir, 'nope.jsonl'))).rejects.toBeInstanceOf(AuditNotFoundError);
  });

  it('refuses bad input without touching the file, and appends after close', async () => {
    const log = await AuditLog.open(file);
    await log.append(input());
    const size = (await stat(file)).size;
    const bad = [
      { ...input(), trigger: 'cron' },
      { ...input(), mode: 'dry' },
      { ...input(), app: '' },
      { ...input(), commit: { ...input().commit!, sha: 'abc' } },
      { ...input(), objects: [{ ...input().objects[0]!, action: 'exploded' }] },
      { ...input(), details: { n: 10n } },
    ] as unknown as AuditInput[];
    for (const b of bad) await expect(log.append(b)).rejects.toBeInstanceOf(AuditInputError);
    expect((await stat(file)).size).toBe(size);
    await log.close();
    await expect(log.append(input())).rejects.toBeInstanceOf(AuditClosedError);
  });

  it('writes only contract keys, and undefined values as null', async () => {
    const odd = {
      ...input(),
      extra: 'dropped',
      objects: [
        { ...input().objects[0]!, fields: [{ path: '.spec.x', desired: undefined, live: 1, owners: [] }] },
      ],
    } as AuditInput;
    const [rec] = await appendAll([odd]);
    const parsed = JSON.parse((await lines(file))[0]!) as Record<string, unknown>;
    expect(parsed).not.toHaveProperty('extra');
    expect(parsed).toEqual(rec);
    expect(rec!.objects[0]!.fields![0]).toEqual({ path: '.spec.x', desired: null, live: 1, owners: [] });
  });

  it('starts a new chain when the log was moved aside while open', async () => {
    const log = await AuditLog.open(file);
    await log.append(input());
    await rename(file, `${file}.old`);
    const rec = await log.append(input());
    await log.close();
    expect(rec).toMatchObject({ seq: 1, prev: GENESIS });
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 1 });
    expect(await verifyAuditLog(`${file}.old`)).toMatchObject({ ok: true, records: 1 });
  });
});

describe('tampering', () => {
  it('names a middle line with any one character changed; append refuses to build on it', async () => {
    await appendAll([input(), input({ details: { note: 'second' } }), input()]);
    const original = await lines(file);
    const line2 = original[1]!;
    // Every position of the line: whatever the character, line 2 is named.
    for (let pos = 0; pos < line2.length; pos++) {
      const c = line2[pos] === 'a' ? 'b' : 'a';
      const changed = [...original];
      changed[1] = line2.slice(0, pos) + c + line2.slice(pos + 1);
      await writeLines(file, changed);
      const result = await verifyAuditLog(file);
      expect(result, `char ${pos}`).toMatchObject({ ok: false, line: 2, records: 1 });
    }

    const changed = [...original];
    changed[1] = line2.replace('"second"', '"secone"');
    await writeLines(file, changed);
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      line: 2,
      reason: 'hash mismatch (the line was changed) at line 2',
    });
    const tampered = await readFile(file);
    await expect(AuditLog.open(file)).rejects.toBeInstanceOf(AuditChainError);
    await expect(readAuditLog(file)).rejects.toThrow(/line 2/);
    expect(await readFile(file)).toEqual(tampered);
  }, 60_000);

  it('an open log refuses to append once a line was tampered with', async () => {
    const log = await AuditLog.open(file);
    for (let i = 0; i < 3; i++) await log.append(input());
    const original = await lines(file);
    original[1] = original[1]!.replace('"poll"', '"poli"');
    await writeLines(file, original);
    const err = await log.append(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditChainError);
    expect((err as AuditChainError).hint).toMatch(/tether audit verify/);
    expect(await lines(file)).toEqual(original);
    await log.close();
  });

  it('reports a deleted middle line as a seq gap at that line; append refuses', async () => {
    await appendAll([input(), input(), input(), input()]);
    const original = await lines(file);
    await writeLines(file, [original[0]!, original[1]!, original[3]!, original[4]!]);
    const result = await verifyAuditLog(file);
    expect(result).toMatchObject({ ok: false, line: 3, records: 2 });
    expect(result.ok === false && result.reason).toMatch(/^seq gap \(expected seq 3, found 4.*at line 3$/);
    await expect(AuditLog.open(file)).rejects.toBeInstanceOf(AuditChainError);
  });

  it('reports swapped lines and a replaced hash chain', async () => {
    await appendAll([input(), input(), input()]);
    const original = await lines(file);
    await writeLines(file, [original[0]!, original[2]!, original[1]!, '']);
    let bad = await failure(file);
    expect(bad.line).toBe(2);
    expect(bad.reason).toMatch(/^seq gap/);

    // A line rewritten with a correct hash of its own still breaks the link of the next one.
    const rec = JSON.parse(original[1]!) as Record<string, unknown>;
    rec['app'] = 'evil';
    rec['hash'] = expectedHash(rec);
    await writeLines(file, [original[0]!, JSON.stringify(rec), original[2]!, '']);
    bad = await failure(file);
    expect(bad.line).toBe(3);
    expect(bad.reason).toMatch(/^prev mismatch/);
  });

  it('treats a complete but invalid last line as damage, never as torn', async () => {
    await appendAll([input(), input()]);
    await appendFile(file, '{"not": "a record"}\n');
    const bad = await failure(file);
    expect(bad.line).toBe(3);
    expect(bad.reason).toMatch(/^invalid record: .* at line 3$/);
    await expect(AuditLog.open(file)).rejects.toBeInstanceOf(AuditChainError);
    await writeFile(file, (await readFile(file, 'utf8')).replace('{"not": "a record"}', '{oops'));
    expect(await verifyAuditLog(file)).toMatchObject({
      ok: false,
      line: 3,
      reason: 'invalid JSON at line 3',
    });
  });

  it('names a line that is not valid UTF-8', async () => {
    await appendAll([input(), input({ details: { note: 'caf\u00e9' } }), input()]);
    const bytes = await readFile(file);
    const at = bytes.indexOf(Buffer.from('\u00e9'));
    bytes[at + 1] = 0x41; // breaks the two-byte sequence of "é"
    await writeFile(file, bytes);
    expect(await failure(file)).toMatchObject({ records: 1, line: 2, reason: 'invalid UTF-8 at line 2' });
  });

  it('with verifyChain, open refuses damage anywhere, not only near the end', async () => {
    await appendAll(Array.from({ length: 10 }, () => input()));
    const original = await lines(file);
    original[4] = original[4]!.replace('"shop"', '"shoq"');
    await writeLines(file, original);
    const err = await AuditLog.open(file, { verifyChain: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditChainError);
    expect((err as Error).message).toMatch(/line 5/);
  });
});

describe('torn last line', () => {
  it('is reported by verify and read, then cut off and recorded by the next append', async () => {
    await appendAll([input(), input(), input()]);
    const full = await readFile(file, 'utf8');
    const half = full.split('\n')[2]!.slice(0, 150);
    await appendFile(file, half);

    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, records: 3, line: 4, reason: TORN_REASON });
    expect(TORN_REASON).toBe('incomplete last line (torn write)');
    const torn: unknown[] = [];
    const records = await readAuditLog(file, {}, { onTornLine: (t) => torn.push(t) });
    expect(records).toHaveLength(3);
    expect(torn).toEqual([{ line: 4, bytes: 150 }]);

    const log = await AuditLog.open(file); // opening alone changes nothing: the repair goes with a record
    expect(await readFile(file, 'utf8')).toBe(full + half);
    const rec = await log.append(input({ details: { caller: 'kept' } }));
    await log.close();
    // The torn line was seq 4: that seq is never given to another record.
    expect(rec.seq).toBe(5);
    expect(rec.details).toEqual({ caller: 'kept', repairedTornLine: { line: 4, bytes: 150, seq: 4 } });
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 4, head: { seq: 5 } });
    const after = await readFile(file, 'utf8');
    expect(after.startsWith(full)).toBe(true);
    const added = after.slice(full.length);
    expect(added.endsWith('\n') && added.indexOf('\n') === added.length - 1).toBe(true);
    expect(JSON.parse(added)).toEqual(rec);
  });

  it('repairs a torn first line, and a torn line that lacks only its newline', async () => {
    await (await AuditLog.open(file)).close();
    await writeFile(file, '{"seq":1,"ti');
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, records: 0, line: 1, reason: TORN_REASON });
    let [rec] = await appendAll([input()]);
    expect(rec).toMatchObject({
      seq: 2,
      prev: GENESIS,
      details: { repairedTornLine: { line: 1, bytes: 12, seq: 1 } },
    });

    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, -1)); // a whole record without its newline is still torn
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, records: 0, line: 1, reason: TORN_REASON });
    [rec] = await appendAll([input()]);
    // The torn line's own seq (2) is read from its first bytes: never reused.
    expect(rec).toMatchObject({
      seq: 3,
      details: { repairedTornLine: { line: 1, bytes: text.length - 1, seq: 2 } },
    });
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 1, head: { seq: 3 } });
  });

  it('treats a NUL-filled tail (lost data after power loss) as torn', async () => {
    await appendAll([input()]);
    await appendFile(file, Buffer.alloc(300));
    expect(await verifyAuditLog(file)).toMatchObject({ ok: false, line: 2, reason: TORN_REASON });
    const [rec] = await appendAll([input()]);
    expect(rec!.details).toEqual({ repairedTornLine: { line: 2, bytes: 300, seq: 2 } });
    expect(rec!.seq).toBe(3);
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 2 });
  });
});
