import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLockError, AuditLog, verifyAuditLog } from '../../../src/audit/index.ts';
import { currentIdentity, formatHolder } from '../../../src/util/file-lock.ts';
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

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
function startTime(pid: number): string {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
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

  it('is taken over at once when it names a pid 1 that started at another time (a previous container)', async () => {
    const self = (await currentIdentity())!;
    await writeFile(
      `${file}.lock`,
      formatHolder(1, hostname(), 'crashed', { ...self, start: String(Number(startTime(1)) + 1000) }),
    );
    const t0 = performance.now();
    const log = await AuditLog.open(file, { lockWaitMs: 5_000 });
    await log.append(input());
    expect(performance.now() - t0).toBeLessThan(1_000);
    await log.close();
    expect(await readdir(dir)).toEqual(['audit.jsonl']);
  });

  it('is taken over at once when written in another boot of this host', async () => {
    const self = (await currentIdentity())!;
    await writeFile(
      `${file}.lock`,
      formatHolder(1, hostname(), 'before-reboot', { ...self, boot: 'ffffffff-0000-0000-0000-000000000000' }),
    );
    const log = await AuditLog.open(file, { lockWaitMs: 1_000 });
    await log.close();
  });

  it('is waited for when it names a live process with its start time', async () => {
    const self = (await currentIdentity())!;
    const log = await AuditLog.open(file, { lockWaitMs: 300 });
    await writeFile(`${file}.lock`, formatHolder(1, hostname(), 'init', { ...self, start: startTime(1) }));
    const err = await log.append(input()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditLockError);
    expect((err as AuditLockError).message).toContain('(pid 1)');
    await log.close();
  });
});
