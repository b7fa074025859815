// OpenPGP commit signatures (gpg's detached, armored, binary-mode signatures) via openpgp,
// loaded on first use: it is large and most sources verify nothing or use SSH keys.
import type { Key } from 'openpgp';
import { InvalidSourceError, SignatureError } from './errors.ts';

async function parseKeys(armored: string[]): Promise<Key[]> {
  const { readKeys } = await import('openpgp');
  const out: Key[] = [];
  for (const [i, text] of armored.entries()) {
    try {
      out.push(...(await readKeys({ armoredKeys: text })));
    } catch (err) {
      throw new InvalidSourceError(
        `verify.pgpKeys[${i}] is not an armored OpenPGP public key: ${(err as Error).message}`,
        {
          hint: 'export the key with `gpg --armor --export <id>`',
        },
      );
    }
  }
  return out;
}

/** Verifies `signature` over `payload`; returns the signing key's fingerprint. */
export async function verifyPgp(
  sha: string,
  payload: Buffer,
  armored: string,
  trusted: string[],
): Promise<string> {
  const { createMessage, readSignature, verify } = await import('openpgp');
  const keys = await parseKeys(trusted);
  let signature;
  try {
    signature = await readSignature({ armoredSignature: armored });
  } catch (err) {
    throw new SignatureError(sha, 'bad-signature', `malformed OpenPGP signature (${(err as Error).message})`);
  }
  const ids = signature.getSigningKeyIDs();
  const key = keys.find((k) => k.getKeyIDs().some((kid) => ids.some((sid) => sid.equals(kid))));
  if (!key) {
    const shown = ids.map((id) => id.toHex().toUpperCase()).join(', ') || 'none';
    throw new SignatureError(
      sha,
      'unknown-key',
      `signed by OpenPGP key ${shown}, which is not a trusted key`,
      {
        hint: 'add the signer’s public key to verify.pgpKeys if it should be trusted',
      },
    );
  }
  try {
    const message = await createMessage({ binary: new Uint8Array(payload) });
    const result = await verify({ message, signature, verificationKeys: keys, format: 'binary' });
    const [first] = result.signatures;
    if (!first) throw new Error('no signature packet');
    await first.verified;
  } catch (err) {
    const text = (err as Error).message ?? String(err);
    const unsupported = /unsupported|unknown (public key )?algorithm|not implemented/i.test(text);
    throw new SignatureError(
      sha,
      unsupported ? 'unsupported-algorithm' : 'bad-signature',
      unsupported
        ? `unsupported OpenPGP algorithm (${text})`
        : `OpenPGP signature does not match the commit (${text})`,
      {
        hint: unsupported
          ? 'sign with an RSA, ECDSA or Ed25519 key'
          : 'the commit was altered after signing, or signed wrongly',
      },
    );
  }
  return key.getFingerprint().toUpperCase();
}
