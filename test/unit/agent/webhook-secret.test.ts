import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSecretError, loadWebhookEndpoints, readWebhookSecret } from '../../../src/agent/webhook.ts';

describe('readWebhookSecret', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tether-webhook-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file, dropping the trailing newline', async () => {
    const file = join(dir, 'github');
    await writeFile(file, 's3cret\n');
    expect(await readWebhookSecret({ name: 'gh', type: 'github', secretFile: file })).toEqual(
      Buffer.from('s3cret'),
    );
  });

  it('reads an environment variable', async () => {
    const secret = await readWebhookSecret(
      { name: 'ci', type: 'generic', secretEnv: 'HOOK' },
      { HOOK: 'abc' },
    );
    expect(secret.toString()).toBe('abc');
  });

  it('a missing file, an unset variable or an empty secret is an error that does not show the secret', async () => {
    await expect(
      readWebhookSecret({ name: 'gh', type: 'github', secretFile: join(dir, 'none') }),
    ).rejects.toThrow(
      new WebhookSecretError(`webhook gh: cannot read secret file ${join(dir, 'none')}`, {
        hint: 'mount the secret at that path or fix secretFile in the config',
      }),
    );
    await expect(readWebhookSecret({ name: 'ci', type: 'generic', secretEnv: 'HOOK' }, {})).rejects.toThrow(
      new WebhookSecretError('webhook ci: the secret environment variable HOOK is empty or unset', {
        hint: 'an empty secret would accept anyone; set a long random value',
      }),
    );
    const blank = join(dir, 'blank');
    await writeFile(blank, '  \n');
    await expect(readWebhookSecret({ name: 'gh', type: 'github', secretFile: blank })).rejects.toThrow(
      WebhookSecretError,
    );
  });

  it('loadWebhookEndpoints pairs every webhook with its secret', async () => {
    const endpoints = await loadWebhookEndpoints(
      [
        { name: 'a', type: 'gitlab', secretEnv: 'A' },
        { name: 'b', type: 'generic', secretEnv: 'B' },
      ],
      { A: 'one', B: 'two' },
    );
    expect(endpoints).toEqual([
      { name: 'a', type: 'gitlab', secret: Buffer.from('one') },
      { name: 'b', type: 'generic', secret: Buffer.from('two') },
    ]);
  });
});
