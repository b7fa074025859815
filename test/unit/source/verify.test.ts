import { describe, expect, it } from 'vitest';
import { createMessage, generateKey, readKey, readSignature, sign } from 'openpgp';
import { SignatureError } from '../../../src/source/errors.ts';
import { splitSignature, verifySigned } from '../../../src/source/verify.ts';
import { parseAuthorizedKeys, verifySsh } from '../../../src/source/verify-ssh.ts';
import { verifyPgp } from '../../../src/source/verify-pgp.ts';
import { makeKey } from './sshsig.ts';

const SHA = 'a'.repeat(40);
const PAYLOAD = Buffer.from(
  'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n\nmessage\n',
);

function withSignature(payload: Buffer, signature: string): Buffer {
  const text = payload.toString('latin1');
  const at = text.indexOf('\n\n');
  const header = 'gpgsig ' + signature.trimEnd().split('\n').join('\n ');
  return Buffer.from(`${text.slice(0, at)}\n${header}${text.slice(at)}`, 'latin1');
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('splitSignature', () => {
  it('removes the gpgsig header and returns the payload byte for byte', () => {
    const sig = '-----BEGIN SSH SIGNATURE-----\nAAAA\nBBBB\n-----END SSH SIGNATURE-----\n';
    const split = splitSignature(withSignature(PAYLOAD, sig));
    expect(split?.payload.equals(PAYLOAD)).toBe(true);
    expect(split?.signature).toBe(sig);
  });

  it('keeps non-ASCII bytes and a message that mentions gpgsig', () => {
    const payload = Buffer.concat([PAYLOAD.subarray(0, -1), Buffer.from('\ngpgsig in the body é\n')]);
    const split = splitSignature(
      withSignature(payload, '-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----'),
    );
    expect(split?.payload.equals(payload)).toBe(true);
  });

  it('returns undefined for an unsigned commit', () => {
    expect(splitSignature(PAYLOAD)).toBeUndefined();
  });
});

describe('SSH signatures (SSHSIG)', () => {
  for (const kind of ['ed25519', 'p256', 'p384', 'p521', 'rsa'] as const) {
    it(`verifies ${kind} and refuses a tampered payload`, () => {
      const key = makeKey(kind);
      const sig = key.sign(PAYLOAD);
      expect(verifySsh(SHA, PAYLOAD, sig, [key.line])).toMatch(/^SHA256:/);
      const tampered = Buffer.from(PAYLOAD.toString().replace('message', 'massage'));
      expect(reasonOf(() => verifySsh(SHA, tampered, sig, [key.line]))).toBe('bad-signature');
    });
  }

  it('accepts sha256 and rsa-sha2-256 too', () => {
    const rsa = makeKey('rsa');
    expect(() =>
      verifySsh(SHA, PAYLOAD, rsa.sign(PAYLOAD, { rsaAlg: 'rsa-sha2-256', hash: 'sha256' }), [rsa.line]),
    ).not.toThrow();
  });

  it('refuses an untrusted key, another namespace and SHA-1 RSA', () => {
    const key = makeKey('ed25519');
    const other = makeKey('ed25519');
    expect(reasonOf(() => verifySsh(SHA, PAYLOAD, key.sign(PAYLOAD), [other.line]))).toBe('unknown-key');
    expect(
      reasonOf(() => verifySsh(SHA, PAYLOAD, key.sign(PAYLOAD, { namespace: 'file' }), [key.line])),
    ).toBe('bad-signature');
    const rsa = makeKey('rsa');
    expect(
      reasonOf(() => verifySsh(SHA, PAYLOAD, rsa.sign(PAYLOAD, { rsaAlg: 'ssh-rsa' }), [rsa.line])),
    ).toBe('unsupported-algorithm');
  });

  it('refuses a garbled signature as bad', () => {
    const key = makeKey('ed25519');
    const garbled = '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n';
    expect(reasonOf(() => verifySsh(SHA, PAYLOAD, garbled, [key.line]))).toBe('bad-signature');
  });

  it('parses authorized_keys lines with options and comments', () => {
    const key = makeKey('p256');
    const [blob] = parseAuthorizedKeys([`# comment\nno-pty,from="10.0.0.1" ${key.line}`]);
    expect(blob?.equals(key.blob)).toBe(true);
    expect(() => parseAuthorizedKeys(['not a key'])).toThrow(/verify.sshKeys\[0\]/);
  });
});

describe('OpenPGP signatures', () => {
  async function pgpKey(name: string) {
    const { privateKey, publicKey } = await generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name }],
      format: 'armored',
    });
    return { privateKey, publicKey };
  }
  async function detach(privateArmored: string, payload: Buffer): Promise<string> {
    const { readPrivateKey } = await import('openpgp');
    const signingKeys = await readPrivateKey({ armoredKey: privateArmored });
    return (await sign({
      message: await createMessage({ binary: new Uint8Array(payload) }),
      signingKeys,
      detached: true,
      format: 'armored',
    })) as string;
  }

  it('verifies, and refuses an unknown key and a tampered payload', async () => {
    const k = await pgpKey('signer');
    const other = await pgpKey('other');
    const sig = await detach(k.privateKey, PAYLOAD);
    expect((await readSignature({ armoredSignature: sig })).getSigningKeyIDs()).toHaveLength(1);
    const fpr = await verifyPgp(SHA, PAYLOAD, sig, [k.publicKey]);
    expect(fpr).toBe((await readKey({ armoredKey: k.publicKey })).getFingerprint().toUpperCase());
    await expect(verifyPgp(SHA, PAYLOAD, sig, [other.publicKey])).rejects.toMatchObject({
      reason: 'unknown-key',
    });
    await expect(verifyPgp(SHA, Buffer.from('changed'), sig, [k.publicKey])).rejects.toMatchObject({
      reason: 'bad-signature',
    });
  });

  it('goes through verifySigned by armor type, and refuses unsupported formats', async () => {
    const k = await pgpKey('signer');
    const sig = await detach(k.privateKey, PAYLOAD);
    await expect(
      verifySigned(SHA, { payload: PAYLOAD, signature: sig }, { mode: 'required', pgpKeys: [k.publicKey] }),
    ).resolves.toMatchObject({
      format: 'pgp',
    });
    await expect(
      verifySigned(
        SHA,
        { payload: PAYLOAD, signature: '-----BEGIN SIGNED MESSAGE-----\nx\n' },
        { mode: 'required', pgpKeys: [k.publicKey] },
      ),
    ).rejects.toMatchObject({ reason: 'unsupported-algorithm' });
    await expect(
      verifySigned(SHA, undefined, { mode: 'required', sshKeys: [makeKey('ed25519').line] }),
    ).rejects.toMatchObject({
      reason: 'unsigned',
    });
  });
});
