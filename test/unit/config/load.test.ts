import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigErrors, ConfigReadError, loadConfig } from '../../../src/config/index.ts';

describe('loadConfig', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file and resolves its relative paths against its directory', async () => {
    await mkdir(join(dir, 'etc'));
    const file = join(dir, 'etc', 'tether.yaml');
    await writeFile(file, 'auditLog: ../var/audit.jsonl\napps:\n  - {name: a, source: {repo: ./repo}}\n');
    const config = await loadConfig(file);
    expect(config.file).toBe(file);
    expect(config.auditLog).toBe(join(dir, 'var', 'audit.jsonl'));
    expect(config.apps[0]?.source.repo).toBe(join(dir, 'etc', 'repo'));
  });

  it('names the file in validation errors', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'apps: []\n');
    await expect(loadConfig(file)).rejects.toThrow(
      new ConfigErrors(file, [
        {
          file,
          path: 'apps',
          line: 1,
          column: 7,
          message:
            'list at least one app, or set appResources.enabled: true to run the App resources (apps.tether.dev) of the cluster',
        },
      ]),
    );
  });

  it('a missing file is a ConfigReadError', async () => {
    const file = join(dir, 'nope.yaml');
    const hint = 'pass the path of a Tether config file with --config';
    await expect(loadConfig(file)).rejects.toThrow(
      new ConfigReadError(`cannot read config file ${file}: no such file`, { hint }),
    );
    await expect(loadConfig(dir)).rejects.toThrow(
      new ConfigReadError(`cannot read config file ${dir}: it is a directory`, { hint }),
    );
  });
});
