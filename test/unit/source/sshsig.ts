// Builds OpenSSH SSHSIG signatures with node's crypto, to test the verifier without ssh-keygen.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

function str(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return str(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

const CURVE: Record<string, { name: string; size: number; hash: string; node: string }> = {
  p256: { name: 'nistp256', size: 32, hash: 'sha256', node: 'prime256v1' },
  p384: { name: 'nistp384', size: 48, hash: 'sha384', node: 'secp384r1' },
  p521: { name: 'nistp521', size: 66, hash: 'sha512', node: 'secp521r1' },
};

export interface TestSshKey {
  blob: Buffer;
  line: string;
  sign(payload: Buffer, opts?: { namespace?: string; hash?: 'sha256' | 'sha512'; rsaAlg?: string }): string;
}

export function makeKey(kind: 'ed25519' | 'p256' | 'p384' | 'p521' | 'rsa'): TestSshKey {
  let blob: Buffer;
  let privateKey: KeyObject;
  let type: string;
  let signRaw: (data: Buffer, rsaAlg?: string) => Buffer;
  if (kind === 'ed25519') {
    const pair = generateKeyPairSync('ed25519');
    privateKey = pair.privateKey;
    type = 'ssh-ed25519';
    const x = Buffer.from(pair.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    blob = Buffer.concat([str(type), str(x)]);
    signRaw = (data) => Buffer.concat([str(type), str(sign(null, data, privateKey))]);
  } else if (kind === 'rsa') {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    privateKey = pair.privateKey;
    type = 'ssh-rsa';
    const jwk = pair.publicKey.export({ format: 'jwk' });
    blob = Buffer.concat([
      str(type),
      mpint(Buffer.from(jwk.e!, 'base64url')),
      mpint(Buffer.from(jwk.n!, 'base64url')),
    ]);
    signRaw = (data, alg = 'rsa-sha2-512') => {
      const hash = alg === 'rsa-sha2-256' ? 'sha256' : alg === 'ssh-rsa' ? 'sha1' : 'sha512';
      return Buffer.concat([str(alg), str(sign(hash, data, privateKey))]);
    };
  } else {
    const c = CURVE[kind]!;
    const pair = generateKeyPairSync('ec', { namedCurve: c.node });
    privateKey = pair.privateKey;
    type = `ecdsa-sha2-${c.name}`;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    const q = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    blob = Buffer.concat([str(type), str(c.name), str(q)]);
    signRaw = (data) => {
      const rs = sign(c.hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return Buffer.concat([
        str(type),
        str(Buffer.concat([mpint(rs.subarray(0, c.size)), mpint(rs.subarray(c.size))])),
      ]);
    };
  }
  return {
    blob,
    line: `${type} ${blob.toString('base64')} test@${kind}`,
    sign(payload, opts = {}) {
      const namespace = opts.namespace ?? 'git';
      const hash = opts.hash ?? 'sha512';
      const signed = Buffer.concat([
        Buffer.from('SSHSIG'),
        str(namespace),
        str(''),
        str(hash),
        str(createHash(hash).update(payload).digest()),
      ]);
      const version = Buffer.alloc(4);
      version.writeUInt32BE(1);
      const sig = Buffer.concat([
        Buffer.from('SSHSIG'),
        version,
        str(blob),
        str(namespace),
        str(''),
        str(hash),
        str(signRaw(signed, opts.rsaAlg)),
      ]);
      const b64 = sig.toString('base64').replace(/(.{70})/g, '$1\n');
      return `-----BEGIN SSH SIGNATURE-----\n${b64}\n-----END SSH SIGNATURE-----\n`;
    },
  };
}
