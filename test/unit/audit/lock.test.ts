import { spawnSync } from 'node:child_process';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLockError, AuditLog, verifyAuditLog } from '../../../src/audit/index.ts';
import { input, tempDir } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'audit.jsonl');
});
afterEach(async () => cleanup());

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid;
}

describe('the lock file', () => {
  it('is taken over when its holder is dead', async () => {
    await writeFile(`${file}.lock`, `${deadPid()} ${hostname()} abc\n`);
    const log = await AuditLog.open(file, { lockWaitMs: 2_000 });
    expect((await log.append(input())).seq).toBe(1);
    await log.close();
    expect(await readdir(dir)).toEqual(['audit.jsonl']); // no lock or break file left behind
  });

  it('is taken over when left empty by a holder killed before writing it', async () => {
    await writeFile(`${file}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, old, old);
    const log = await AuditLog.open(file, { lockWaitMs: 2_000 });
    await log.append(input());
    await log.close();
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 1 });
  });

  it('is waited for while its holder lives, then the append fails with a hint', async () => {
    const log = await AuditLog.open(file, { lockWaitMs: 300 });
    await writeFile(`${file}.lock`, `${process.pid} ${hostname()} someone-else\n`);
    const err = await log.append(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLockError);
    expect((err as AuditLockError).message).toContain(`pid ${process.pid}`);
    expect((err as AuditLockError).hint).toContain(`${file}.lock`);
    await log.close();
  });
});
