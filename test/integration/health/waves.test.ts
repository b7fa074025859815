/**
 * Sync waves gated on health, through the CLI against the real API server: a wave with an
 * object that cannot become healthy stops the sync, names it, and the later waves are never
 * applied; a wave that is healthy lets the next one through.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl } from '../../support/cluster.ts';
import { configMap, deployment, toYaml } from '../../support/objects.ts';
import { gitServerSuite, syncedApp } from '../../support/suite.ts';

const suite = gitServerSuite();
let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'tether-waves-'));
});

const wave = (n: number) => ({ 'tether.dev/sync-wave': String(n) });

async function sync(name: string, files: Record<string, string>, ...extra: string[]) {
  suite.git().createRepo(name).commit(files, 'waves');
  const { ns, run } = await syncedApp(suite, { repo: name, path: 'app', workDir, prefix: 'waves' });
  const r = await run(...extra);
  const has = async (kind: string, n: string) =>
    (await kubectl(['-n', ns, 'get', kind, n, '--ignore-not-found', '-o', 'name'])) !== '';
  return { r, ns, has };
}

describe('sync waves wait for health', () => {
  it('a healthy wave lets the next one through', async () => {
    const { r, has } = await sync('waves-ok', {
      'app/a.yaml': toYaml(configMap({ name: 'first', data: { a: '1' }, annotations: wave(0) })),
      'app/b.yaml': toYaml(configMap({ name: 'second', data: { b: '1' }, annotations: wave(1) })),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await has('configmap', 'first')).toBe(true);
    expect(await has('configmap', 'second')).toBe(true);
  });

  it('a wave that does not become healthy stops the sync before the next wave', async () => {
    const stuck = deployment({
      name: 'stuck',
      annotations: wave(0),
      podSpec: { nodeSelector: { 'tether.dev/no-such-node': 'x' } },
    });
    (stuck.spec as Record<string, unknown>)['progressDeadlineSeconds'] = 10;
    const { r, ns, has } = await sync(
      'waves-stuck',
      {
        'app/deploy.yaml': toYaml(stuck),
        'app/later.yaml': toYaml(configMap({ name: 'later', data: { a: '1' }, annotations: wave(1) })),
      },
      '--wave-timeout',
      '20s',
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `sync wave 0 is not healthy.*apps/v1 Deployment ${ns}/stuck (Failed|InProgress) .*later waves were not applied`,
      ),
    );
    expect(await has('deployment', 'stuck')).toBe(true);
    expect(await has('configmap', 'later')).toBe(false);
  });
});
