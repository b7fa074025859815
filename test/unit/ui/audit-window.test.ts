import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, TORN_REASON } from '../../../src/audit/index.ts';
import { AuditWindow } from '../../../src/ui/server/audit-window.ts';
import { input, tempDir } from '../audit/helpers.ts';

describe('the audit log as the status page reads it', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let file: string;
  beforeEach(async () => {
    dir = await tempDir();
    file = join(dir.dir, 'audit.jsonl');
  });
  afterEach(() => dir.cleanup());

  it('verifies the chain once, then reads only what was appended, keeping the newest records', async () => {
    const log = await AuditLog.open(file);
    for (let i = 0; i < 3; i++) await log.append(input({ trigger: 'poll' }));
    const window = new AuditWindow(file, 4);
    const first = await window.read();
    expect(first.chain).toMatchObject({ ok: true, records: 3, head: { seq: 3 } });
    expect(first.chain.chain).toMatch(/^[0-9a-f]{16}$/);
    expect(first.records.map((r) => r.seq)).toEqual([1, 2, 3]);

    for (let i = 0; i < 3; i++) await log.append(input({ trigger: 'watch' }));
    const second = await window.read();
    expect(second.chain).toMatchObject({ ok: true, records: 6, head: { seq: 6, hash: log.head.hash } });
    expect(second.records.map((r) => r.seq)).toEqual([3, 4, 5, 6]);
    expect([...second.hashes.keys()]).toEqual([3, 4, 5, 6]);
    await log.close();
  });

  it('an empty or missing log is a verified empty chain', async () => {
    expect((await new AuditWindow(file).read()).chain).toEqual({
      ok: true,
      records: 0,
      head: { seq: 0, hash: '0'.repeat(64) },
      chain: null,
    });
  });

  it('names the line where a changed record breaks the chain, and a torn last line', async () => {
    const log = await AuditLog.open(file);
    for (let i = 0; i < 3; i++) await log.append(input());
    await log.close();
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"Scale web to 3"', '"Scale web to 4"'));
    const broken = await new AuditWindow(file).read();
    expect(broken.chain).toMatchObject({ ok: false, records: 0, problem: { line: 1 } });
    expect(broken.chain.problem?.reason).toMatch(/hash mismatch/);

    await writeFile(file, text);
    await appendFile(file, '{"seq":4,"ti');
    const window = new AuditWindow(file);
    expect((await window.read()).chain).toMatchObject({
      ok: false,
      records: 3,
      problem: { line: 4, reason: TORN_REASON },
    });
    // The next append cuts the torn line off and the chain goes on from the last good record.
    const again = await AuditLog.open(file);
    await again.append(input());
    await again.close();
    expect((await window.read()).chain).toMatchObject({ ok: true, records: 4, head: { seq: 5 } });
  });
});
