import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AuditInputError,
  AuditLog,
  readAuditLog,
  verifyAuditLog,
  type AuditObject,
} from '../../../src/audit/index.ts';
import { input, tempDir } from './helpers.ts';

const PASSWORD = 'hunter2-correct-horse';
const PASSWORD_B64 = Buffer.from(PASSWORD).toString('base64');
const TOKEN = 'tok-9f8e7d6c5b4a';
const LAST_APPLIED = JSON.stringify({ kind: 'Secret', data: { password: PASSWORD_B64 } });

const secret: AuditObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  namespace: 'shop',
  name: 'db',
  action: 'configured',
  fields: [
    {
      path: '.data.password',
      desired: PASSWORD_B64,
      live: 'b2xk',
      owners: [{ manager: 'kubectl', operation: 'Update' }],
    },
    { path: '.data["tls.key"]', desired: 'a2V5LWJ5dGVz', live: null, owners: [] },
    {
      path: '.stringData',
      desired: { token: TOKEN, nested: { deep: TOKEN } },
      live: { token: 'old-token' },
      owners: [],
    },
    {
      path: '.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
      desired: LAST_APPLIED,
      live: null,
      owners: [],
    },
    {
      path: '.metadata',
      desired: {
        labels: { app: 'db' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': LAST_APPLIED },
      },
      live: { labels: { app: 'db' } },
      owners: [],
    },
    {
      path: '.',
      desired: { kind: 'Secret', type: 'Opaque', data: { password: PASSWORD_B64 } },
      live: null,
      owners: [],
    },
    { path: '.type', desired: 'Opaque', live: 'kubernetes.io/tls', owners: [] },
    { path: '.metadata.labels.app', desired: 'db', live: 'database', owners: [] },
  ],
};

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('Secret masking', () => {
  it('masks every Secret value in fields, and scrubs it from errors and details; no secret reaches the file', async () => {
    const file = join(dir, 'audit.jsonl');
    const log = await AuditLog.open(file);
    const rec = await log.append(
      input({
        result: 'error',
        error: `apply failed: invalid value "${PASSWORD}"`,
        objects: [{ ...secret, error: `value ${PASSWORD_B64} rejected` }],
        details: { note: `token was ${TOKEN}`, list: [TOKEN] },
      }),
    );
    await log.close();

    const text = await readFile(file, 'utf8');
    for (const s of [PASSWORD, PASSWORD_B64, TOKEN, 'b2xk', 'old-token', 'a2V5LWJ5dGVz', LAST_APPLIED]) {
      expect(text).not.toContain(s);
    }
    const [stored] = await readAuditLog(file);
    expect(stored).toEqual(rec);
    const fields = stored!.objects[0]!.fields!;
    expect(fields.map((f) => [f.path, f.desired, f.live])).toEqual([
      ['.data.password', '***', '***'],
      ['.data["tls.key"]', '***', null],
      ['.stringData', { token: '***', nested: { deep: '***' } }, { token: '***' }],
      ['.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]', '***', null],
      [
        '.metadata',
        { labels: { app: 'db' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '***' } },
        { labels: { app: 'db' } },
      ],
      ['.', { kind: 'Secret', type: 'Opaque', data: { password: '***' } }, null],
      ['.type', 'Opaque', 'kubernetes.io/tls'],
      ['.metadata.labels.app', 'db', 'database'],
    ]);
    expect(fields[0]!.owners).toEqual([{ manager: 'kubectl', operation: 'Update' }]);
    expect(stored!.error).toBe('apply failed: invalid value "***"');
    expect(stored!.objects[0]!.error).toBe('value *** rejected');
    expect(stored!.details).toEqual({ note: 'token was ***', list: ['***'] });
    expect(await verifyAuditLog(file)).toMatchObject({ ok: true, records: 1 });
  });

  it('leaves other kinds alone, and does not change the caller’s input', async () => {
    const file = join(dir, 'audit.jsonl');
    const cm: AuditObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'shop',
      name: 'cfg',
      action: 'configured',
      fields: [{ path: '.data.mode', desired: 'fast', live: 'slow', owners: [] }],
    };
    const objects = [cm, secret];
    const log = await AuditLog.open(file);
    const rec = await log.append(input({ objects }));
    await log.close();
    expect(rec.objects[0]).toEqual(cm);
    expect(secret.fields![0]!.desired).toBe(PASSWORD_B64);
  });

  it('never puts a rejected value in an error message', async () => {
    const log = await AuditLog.open(join(dir, 'audit.jsonl'));
    const bad = { ...input(), trigger: PASSWORD } as unknown as Parameters<AuditLog['append']>[0];
    const err = await log.append(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).not.toContain(PASSWORD);
    expect((err as Error).message).toMatch(/^audit record: trigger must be one of cli, poll/);
    await log.close();
  });
});
