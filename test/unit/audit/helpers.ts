import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditInput } from '../../../src/audit/index.ts';

export const SHA_A = 'a'.repeat(40);
export const SHA_B = 'b'.repeat(40);

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-audit-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function input(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    app: 'shop',
    commit: {
      sha: SHA_A,
      author: 'Ada Lovelace <ada@example.com>',
      message: 'Scale web to 3',
      time: '2025-01-02T03:04:05.000Z',
    },
    trigger: 'poll',
    mode: 'apply',
    result: 'applied',
    objects: [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: 'shop',
        name: 'web',
        action: 'configured',
        fields: [
          {
            path: '.spec.replicas',
            desired: 3,
            live: 2,
            owners: [{ manager: 'kubectl-edit', operation: 'Update', time: '2025-01-02T00:00:00Z' }],
          },
        ],
      },
    ],
    ...overrides,
  };
}

export async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n');
}

export async function writeLines(path: string, text: string[]): Promise<void> {
  await writeFile(path, text.join('\n'));
}
