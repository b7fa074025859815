// SSH commit signatures (OpenSSH's SSHSIG format, namespace "git") verified with node's
// crypto: Ed25519, ECDSA on nistp256/384/521 and RSA with rsa-sha2-256/512. The key inside
// the signature must equal one of the trusted authorized_keys entries byte for byte.
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { InvalidSourceError, SignatureError } from './errors.ts';

const MAGIC = Buffer.from('SSHSIG');
const NAMESPACE = 'git';

class Reader {
  private off = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  bytes(n: number): Buffer {
    if (this.off + n > this.buf.length) throw new Error('truncated');
    const out = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }
  u32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  string(): Buffer {
    return this.bytes(this.u32());
  }
  text(): string {
    return this.string().toString('utf8');
  }
  get done(): boolean {
    return this.off === this.buf.length;
  }
}

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function b64url(b: Buffer): string {
  return b.toString('base64url');
}

/** An unsigned big-endian integer from an SSH mpint, left-padded to `size` bytes. */
function unsignedPadded(mpint: Buffer, size?: number): Buffer {
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  const raw = mpint.subarray(i);
  if (size === undefined || raw.length >= size) return raw;
  return Buffer.concat([Buffer.alloc(size - raw.length), raw]);
}

const CURVES: Record<string, { crv: string; size: number; hash: string }> = {
  nistp256: { crv: 'P-256', size: 32, hash: 'sha256' },
  nistp384: { crv: 'P-384', size: 48, hash: 'sha384' },
  nistp521: { crv: 'P-521', size: 66, hash: 'sha512' },
};

class Unsupported extends Error {}

interface ParsedKey {
  type: string;
  key: KeyObject;
  curve?: { size: number; hash: string };
}

function parsePublicKey(blob: Buffer): ParsedKey {
  const r = new Reader(blob);
  const type = r.text();
  if (type === 'ssh-ed25519') {
    const x = r.string();
    return {
      type,
      key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(x) }, format: 'jwk' }),
    };
  }
  const ecdsa = /^ecdsa-sha2-(nistp\d+)$/.exec(type);
  if (ecdsa) {
    const curve = CURVES[ecdsa[1]!];
    const name = r.text();
    const q = r.string();
    if (!curve || name !== ecdsa[1] || q[0] !== 4 || q.length !== 1 + 2 * curve.size) {
      throw new Unsupported(`ECDSA curve ${name}`);
    }
    const jwk = {
      kty: 'EC',
      crv: curve.crv,
      x: b64url(q.subarray(1, 1 + curve.size)),
      y: b64url(q.subarray(1 + curve.size)),
    };
    return { type, key: createPublicKey({ key: jwk, format: 'jwk' }), curve };
  }
  if (type === 'ssh-rsa') {
    const e = unsignedPadded(r.string());
    const n = unsignedPadded(r.string());
    return { type, key: createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }) };
  }
  throw new Unsupported(`key type ${type}`);
}

/** The key blobs of authorized_keys lines (options before the key type are allowed). */
export function parseAuthorizedKeys(lines: string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const [i, line] of lines.entries()) {
    for (const l of line.split('\n')) {
      const trimmed = l.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const tokens = trimmed.split(/\s+/);
      const at = tokens.findIndex((t) => /^(ssh-|ecdsa-|sk-)/.test(t));
      const data = at >= 0 ? tokens[at + 1] : undefined;
      if (!data || !/^[A-Za-z0-9+/]+=*$/.test(data)) {
        throw new InvalidSourceError(`verify.sshKeys[${i}] is not an authorized_keys line`, {
          hint: 'use the contents of a .pub file: "ssh-ed25519 AAAA... comment"',
        });
      }
      out.push(Buffer.from(data, 'base64'));
    }
  }
  return out;
}

function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** Verifies an armored SSHSIG over `payload`; returns the signing key's fingerprint. */
export function verifySsh(sha: string, payload: Buffer, armored: string, trusted: string[]): string {
  const bad = (detail: string, hint?: string): SignatureError =>
    new SignatureError(sha, 'bad-signature', detail, hint ? { hint } : undefined);
  const body = armored
    .replace(/-----BEGIN SSH SIGNATURE-----/, '')
    .replace(/-----END SSH SIGNATURE-----[\s\S]*$/, '')
    .replace(/\s+/g, '');
  let publicKey: Buffer, namespace: string, reserved: Buffer, hashAlg: string, sigBlob: Buffer;
  try {
    const r = new Reader(Buffer.from(body, 'base64'));
    if (!r.bytes(6).equals(MAGIC)) throw new Error('bad magic');
    const version = r.u32();
    if (version !== 1) throw new Error(`version ${version}`);
    publicKey = r.string();
    namespace = r.text();
    reserved = r.string();
    hashAlg = r.text();
    sigBlob = r.string();
  } catch (err) {
    throw bad(`malformed SSH signature (${(err as Error).message})`);
  }
  const keys = parseAuthorizedKeys(trusted);
  if (!keys.some((k) => k.equals(publicKey))) {
    throw new SignatureError(
      sha,
      'unknown-key',
      `signed by SSH key ${fingerprint(publicKey)}, which is not a trusted key`,
      {
        hint: 'add the signer’s public key to verify.sshKeys if it should be trusted',
      },
    );
  }
  if (namespace !== NAMESPACE) throw bad(`SSH signature made for namespace "${namespace}", not "git"`);
  if (hashAlg !== 'sha256' && hashAlg !== 'sha512') {
    throw new SignatureError(sha, 'unsupported-algorithm', `SSH signature hash ${hashAlg} is not supported`);
  }
  let parsed: ParsedKey;
  let sigType: string;
  let sig: Buffer;
  try {
    parsed = parsePublicKey(publicKey);
    const r = new Reader(sigBlob);
    sigType = r.text();
    sig = r.string();
  } catch (err) {
    if (err instanceof Unsupported) {
      throw new SignatureError(sha, 'unsupported-algorithm', `SSH ${err.message} is not supported`, {
        hint: 'sign with an ed25519, ecdsa-sha2-nistp256/384/521 or RSA key',
      });
    }
    throw bad(`malformed SSH signature (${(err as Error).message})`);
  }
  const signed = Buffer.concat([
    MAGIC,
    sshString(namespace),
    sshString(reserved),
    sshString(hashAlg),
    sshString(createHash(hashAlg).update(payload).digest()),
  ]);
  let ok: boolean;
  if (parsed.type === 'ssh-ed25519') {
    if (sigType !== 'ssh-ed25519')
      throw bad(`signature type ${sigType} does not match key type ${parsed.type}`);
    ok = cryptoVerify(null, signed, parsed.key, sig);
  } else if (parsed.curve) {
    if (sigType !== parsed.type)
      throw bad(`signature type ${sigType} does not match key type ${parsed.type}`);
    let rs: Buffer;
    try {
      const r = new Reader(sig);
      rs = Buffer.concat([
        unsignedPadded(r.string(), parsed.curve.size),
        unsignedPadded(r.string(), parsed.curve.size),
      ]);
    } catch {
      throw bad('malformed ECDSA signature');
    }
    ok = cryptoVerify(parsed.curve.hash, signed, { key: parsed.key, dsaEncoding: 'ieee-p1363' }, rs);
  } else {
    const hash = sigType === 'rsa-sha2-256' ? 'sha256' : sigType === 'rsa-sha2-512' ? 'sha512' : undefined;
    if (!hash) {
      throw new SignatureError(
        sha,
        'unsupported-algorithm',
        `SSH signature type ${sigType} is not supported (SHA-1)`,
        {
          hint: 'sign with rsa-sha2-256 or rsa-sha2-512 (any current OpenSSH does)',
        },
      );
    }
    ok = cryptoVerify(hash, signed, parsed.key, sig);
  }
  if (!ok)
    throw bad(
      'SSH signature does not match the commit',
      'the commit was altered after signing, or signed wrongly',
    );
  return fingerprint(publicKey);
}
