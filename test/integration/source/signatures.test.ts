import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../../support/git-server.ts';
import { gitAsync, makeGpgKey, makeSshKey, type GpgKey, type SshKey } from '../../support/git-keys.ts';
import { SignatureError, readSnapshot, type SourceSpec } from '../../../src/source/index.ts';
import { tempDir } from './helpers.ts';

let server: GitServer;
let repo: Repo;
let gpg: GpgKey;
let otherGpg: GpgKey;
const ssh: Record<string, SshKey> = {};
const SSH_TYPES = ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa'];
const cache = tempDir('tether-cache-');

beforeAll(async () => {
  server = await GitServer.start();
  repo = server.createRepo('signed');
  repo.commit({ 'a.yaml': 'unsigned\n' }, 'unsigned');
  [gpg, otherGpg] = await Promise.all([makeGpgKey(), makeGpgKey('Other <other@example.com>')]);
  for (const [t, k] of await Promise.all(SSH_TYPES.map(async (t) => [t, await makeSshKey(t)] as const)))
    ssh[t] = k;
}, 120_000);

afterAll(async () => {
  await server.close();
  repo.dispose();
  await Promise.all([gpg, otherGpg, ...Object.values(ssh)].map((k) => k?.dispose()));
  cache.dispose();
});

function spec(ref: string, verify: SourceSpec['verify']): SourceSpec {
  return { repo: server.url('signed'), ref, cacheDir: cache.path, verify };
}

/** Commits on a new branch `name` and pushes it; returns the sha. */
function commitOn(name: string, env: Record<string, string>, content = name): string {
  // Not Repo.commit: that pushes to main, which must stay unsigned.
  repo.git(['checkout', '--quiet', '-B', name, 'main']);
  writeFileSync(join(repo.git(['rev-parse', '--show-toplevel']), 'a.yaml'), `${content}\n`);
  repo.git(['commit', '--quiet', '-am', `commit ${name}`], env);
  repo.git(['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${name}`]);
  const sha = repo.git(['rev-parse', 'HEAD']);
  repo.git(['checkout', '--quiet', 'main']);
  return sha;
}

async function refusal(ref: string, verify: SourceSpec['verify']): Promise<SignatureError> {
  const err = await readSnapshot(spec(ref, verify)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SignatureError);
  return err as SignatureError;
}

describe('OpenPGP signed commits (real gpg)', () => {
  it('verifies a commit signed by a trusted key', async () => {
    const sha = commitOn('pgp', gpg.gitEnv);
    const snap = await readSnapshot(spec('pgp', { mode: 'required', pgpKeys: [gpg.armoredPublic] }));
    expect(snap.commit.sha).toBe(sha);
  });

  it('refuses a key that is not trusted', async () => {
    commitOn('pgp-other', otherGpg.gitEnv);
    const err = await refusal('pgp-other', { mode: 'required', pgpKeys: [gpg.armoredPublic] });
    expect(err.reason).toBe('unknown-key');
  });

  it('refuses an unsigned commit, and signatures are ignored when verify is off', async () => {
    const err = await refusal('main', { mode: 'required', pgpKeys: [gpg.armoredPublic] });
    expect(err.reason).toBe('unsigned');
    expect(err.message).toMatch(/^commit [0-9a-f]{7} refused: the commit is not signed$/);
    await expect(readSnapshot(spec('main', { mode: 'off' }))).resolves.toBeTruthy();
  });

  it('refuses a tampered commit (signature kept, content changed)', async () => {
    const sha = commitOn('pgp-src', gpg.gitEnv, 'original');
    const work = repo.git(['rev-parse', '--show-toplevel']);
    const raw = await gitAsync(work, ['cat-file', 'commit', sha]);
    const forged = await gitAsync(
      work,
      ['hash-object', '-t', 'commit', '-w', '--stdin'],
      {},
      raw.replace('commit pgp-src', 'commit evil') + '\n',
    );
    await gitAsync(work, ['push', '--quiet', '--force', 'origin', `${forged}:refs/heads/tampered`]);
    const err = await refusal('tampered', { mode: 'required', pgpKeys: [gpg.armoredPublic] });
    expect(err.reason).toBe('bad-signature');
  });

  it('refuses when no keys are configured', async () => {
    commitOn('pgp2', gpg.gitEnv);
    expect((await refusal('pgp2', { mode: 'required' })).reason).toBe('no-keys');
  });
});

describe('SSH signed commits (real ssh-keygen)', () => {
  for (const type of SSH_TYPES) {
    it(`verifies a ${type} signature`, async () => {
      const key = ssh[type]!;
      const sha = commitOn(`ssh-${type}`, key.gitEnv);
      const snap = await readSnapshot(spec(`ssh-${type}`, { mode: 'required', sshKeys: [key.publicLine] }));
      expect(snap.commit.sha).toBe(sha);
    });
  }

  it('refuses an SSH key that is not trusted, and accepts it once trusted among others', async () => {
    commitOn('ssh-untrusted', ssh.ed25519!.gitEnv);
    const err = await refusal('ssh-untrusted', {
      mode: 'required',
      sshKeys: [ssh.rsa!.publicLine],
      pgpKeys: [gpg.armoredPublic],
    });
    expect(err.reason).toBe('unknown-key');
    expect(err.message).toContain('SHA256:');
    await expect(
      readSnapshot(
        spec('ssh-untrusted', { mode: 'required', sshKeys: [ssh.rsa!.publicLine, ssh.ed25519!.publicLine] }),
      ),
    ).resolves.toBeTruthy();
  });

  it('refuses a tampered SSH-signed commit', async () => {
    const sha = commitOn('ssh-src', ssh['ecdsa-256']!.gitEnv, 'original');
    const work = repo.git(['rev-parse', '--show-toplevel']);
    const raw = await gitAsync(work, ['cat-file', 'commit', sha]);
    const forged = await gitAsync(
      work,
      ['hash-object', '-t', 'commit', '-w', '--stdin'],
      {},
      raw.replace('commit ssh-src', 'commit ssh-evil') + '\n',
    );
    await gitAsync(work, ['push', '--quiet', '--force', 'origin', `${forged}:refs/heads/ssh-tampered`]);
    const err = await refusal('ssh-tampered', { mode: 'required', sshKeys: [ssh['ecdsa-256']!.publicLine] });
    expect(err.reason).toBe('bad-signature');
  });
});
