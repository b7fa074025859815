import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, type AuditInput } from '../../../src/audit/index.ts';
import { danglingIntents } from '../../../src/sync/write-ahead.ts';

const commit = { sha: 'a'.repeat(40), author: 'A <a@x>', message: 'm', time: '2026-01-01T00:00:00Z' };
const rec = (app: string, result: AuditInput['result'], details?: Record<string, unknown>): AuditInput => ({
  app,
  commit,
  trigger: 'poll',
  mode: 'apply',
  result,
  objects: [],
  ...(details ? { details } : {}),
});

describe('danglingIntents', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tether-wa-'));
    file = join(dir, 'audit.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the intents of an app that no later record completes', async () => {
    const log = await AuditLog.open(file);
    const i1 = await log.append(rec('shop', 'intent'));
    await log.append(rec('shop', 'applied', { intent: i1.seq }));
    const i2 = await log.append(rec('shop', 'intent'));
    const other = await log.append(rec('billing', 'intent'));
    await log.append(rec('billing', 'applied', { intent: other.seq }));
    await log.append(rec('shop', 'in-sync'));
    await log.close();
    expect((await danglingIntents(file, 'shop')).map((r) => r.seq)).toEqual([i2.seq]);
    expect(await danglingIntents(file, 'billing')).toEqual([]);
  });

  it('takes a recovered record as the completion of its intent', async () => {
    const log = await AuditLog.open(file);
    const i = await log.append(rec('shop', 'intent'));
    await log.append(rec('shop', 'recovered', { intent: i.seq }));
    await log.close();
    expect(await danglingIntents(file, 'shop')).toEqual([]);
  });
});
