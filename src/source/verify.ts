// Signed-commit policy: the commit must carry a signature made by one of the trusted keys.
// The signed payload is the raw commit object minus its `gpgsig` header, exactly as git
// hashes it; the signature's armor says which verifier applies.
import { SignatureError } from './errors.ts';
import { rawCommit, type ObjectStore } from './store.ts';
import type { VerifyPolicy } from './types.ts';
import { verifyPgp } from './verify-pgp.ts';
import { verifySsh } from './verify-ssh.ts';

export interface SplitCommit {
  payload: Buffer;
  signature: string;
}

/** Separates the signature header from the commit object; undefined when unsigned. */
export function splitSignature(raw: Buffer): SplitCommit | undefined {
  // latin1 maps bytes 1:1, so the payload comes back byte-identical.
  const text = raw.toString('latin1');
  const end = text.indexOf('\n\n');
  const headerEnd = end < 0 ? text.length : end;
  const lines = text.slice(0, headerEnd).split('\n');
  const kept: string[] = [];
  const sig: string[] = [];
  let inSig = false;
  for (const line of lines) {
    if (inSig && line.startsWith(' ')) {
      sig.push(line.slice(1));
      continue;
    }
    inSig = false;
    if (line.startsWith('gpgsig ') || line.startsWith('gpgsig-sha256 ')) {
      inSig = true;
      sig.push(line.slice(line.indexOf(' ') + 1));
      continue;
    }
    kept.push(line);
  }
  if (sig.length === 0) return undefined;
  const payload = kept.join('\n') + text.slice(headerEnd);
  return { payload: Buffer.from(payload, 'latin1'), signature: sig.join('\n') + '\n' };
}

export async function verifyCommit(
  store: ObjectStore,
  sha: string,
  policy: Extract<VerifyPolicy, { mode: 'required' }>,
): Promise<{ format: 'pgp' | 'ssh'; key: string }> {
  const split = splitSignature(await rawCommit(store, sha));
  return verifySigned(sha, split, policy);
}

export async function verifySigned(
  sha: string,
  split: SplitCommit | undefined,
  policy: Extract<VerifyPolicy, { mode: 'required' }>,
): Promise<{ format: 'pgp' | 'ssh'; key: string }> {
  const pgpKeys = policy.pgpKeys ?? [];
  const sshKeys = policy.sshKeys ?? [];
  if (pgpKeys.length === 0 && sshKeys.length === 0) {
    throw new SignatureError(sha, 'no-keys', 'signatures are required but no trusted keys are configured', {
      hint: 'add armored OpenPGP keys (pgpKeys) or authorized_keys lines (sshKeys) to the verify policy',
    });
  }
  if (!split) {
    throw new SignatureError(sha, 'unsigned', 'the commit is not signed', {
      hint: 'sign commits (git commit -S) with a trusted key',
    });
  }
  if (split.signature.startsWith('-----BEGIN PGP SIGNATURE-----')) {
    return { format: 'pgp', key: await verifyPgp(sha, split.payload, split.signature, pgpKeys) };
  }
  if (split.signature.startsWith('-----BEGIN SSH SIGNATURE-----')) {
    return { format: 'ssh', key: verifySsh(sha, split.payload, split.signature, sshKeys) };
  }
  const kind = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(split.signature)?.[1] ?? 'unknown';
  throw new SignatureError(sha, 'unsupported-algorithm', `signature format "${kind}" is not supported`, {
    hint: 'sign with OpenPGP or SSH keys',
  });
}
