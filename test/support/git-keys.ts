/**
 * Signing keys for tests of signed commits: a throwaway GnuPG home with one key (real `gpg`),
 * and OpenSSH key pairs (real `ssh-keygen`). Everything runs as async child processes, so
 * these helpers are safe to use while a GitServer serves in the same process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GpgKey {
  home: string;
  fingerprint: string;
  armoredPublic: string;
  /** Env for `git commit -S` with this key (pass to Repo.commit). */
  gitEnv: Record<string, string>;
  dispose(): Promise<void>;
}

export async function makeGpgKey(uid = 'Signer <signer@example.com>'): Promise<GpgKey> {
  const home = await mkdtemp(join(tmpdir(), 'tether-gpg-'));
  const env = { ...process.env, GNUPGHOME: home };
  await run(
    'gpg',
    [
      '--batch',
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      '',
      '--quick-gen-key',
      uid,
      'ed25519',
      'sign',
      'never',
    ],
    { env },
  );
  const { stdout } = await run('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env });
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
  if (!fingerprint) throw new Error(`no key generated: ${stdout}`);
  const { stdout: armoredPublic } = await run('gpg', ['--batch', '--armor', '--export', fingerprint], {
    env,
  });
  return {
    home,
    fingerprint,
    armoredPublic,
    gitEnv: {
      GNUPGHOME: home,
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'commit.gpgsign',
      GIT_CONFIG_VALUE_0: 'true',
      GIT_CONFIG_KEY_1: 'user.signingkey',
      GIT_CONFIG_VALUE_1: fingerprint,
    },
    dispose: () => rm(home, { recursive: true, force: true }),
  };
}

export interface SshKey {
  type: string;
  privatePath: string;
  publicLine: string;
  gitEnv: Record<string, string>;
  dispose(): Promise<void>;
}

/** `type` as ssh-keygen takes it: 'ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa'. */
export async function makeSshKey(type: string): Promise<SshKey> {
  const dir = await mkdtemp(join(tmpdir(), 'tether-ssh-'));
  const privatePath = join(dir, 'key');
  const [t, bits] = type.split('-');
  const args = ['-q', '-t', t!, '-N', '', '-C', `test-${type}`, '-f', privatePath];
  if (bits) args.push('-b', bits);
  else if (t === 'rsa') args.push('-b', '2048');
  await run('ssh-keygen', args);
  const publicLine = (await readFile(`${privatePath}.pub`, 'utf8')).trim();
  return {
    type,
    privatePath,
    publicLine,
    gitEnv: {
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_0: 'commit.gpgsign',
      GIT_CONFIG_VALUE_0: 'true',
      GIT_CONFIG_KEY_1: 'gpg.format',
      GIT_CONFIG_VALUE_1: 'ssh',
      GIT_CONFIG_KEY_2: 'user.signingkey',
      GIT_CONFIG_VALUE_2: privatePath,
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs git asynchronously (never blocks a GitServer running in this process). */
export async function gitAsync(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<string> {
  const child = execFile('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Test Author',
      GIT_AUTHOR_EMAIL: 'author@example.com',
      GIT_COMMITTER_NAME: 'Test Committer',
      GIT_COMMITTER_EMAIL: 'committer@example.com',
      HOME: cwd,
      ...env,
    },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (input !== undefined) child.stdin?.end(input);
  else child.stdin?.end();
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: string) => (out += d));
  child.stderr?.on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`git ${args.join(' ')} failed (${code}): ${err}`);
  return out.trim();
}
