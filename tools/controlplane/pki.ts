/**
 * Certificates for the local control plane, the way envtest makes them: one CA, a serving
 * certificate for 127.0.0.1/localhost, an admin client certificate in system:masters, and a
 * service-account signing key. ECDSA P-256 through WebCrypto keeps generation instant.
 */
import { generateKeyPairSync, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saPublic: string;
  saPrivate: string;
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const crypto = webcrypto;

async function keyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function leaf(
  ca: { cert: x509.X509Certificate; keys: CryptoKeyPair },
  subject: string,
  usage: x509.ExtendedKeyUsage,
  names?: x509.JsonGeneralNames,
): Promise<{ cert: string; key: string }> {
  const keys = await keyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([usage]),
  ];
  if (names) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject,
      issuer: ca.cert.subject,
      publicKey: keys.publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: alg,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 365 * 24 * 3600_000),
      extensions,
    },
    crypto,
  );
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

export async function generatePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKeys = await keyPair();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=tether-local-ca',
      keys: caKeys,
      signingAlgorithm: alg,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 10 * 365 * 24 * 3600_000),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    },
    crypto,
  );
  const ca = { cert: caCert, keys: caKeys };
  const server = await leaf(ca, 'CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: 'kubernetes.default.svc' },
  ]);
  const admin = await leaf(ca, 'CN=tether-admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth);
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  const files: Pki = {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    saPublic: join(dir, 'sa.pub'),
    saPrivate: join(dir, 'sa.key'),
  };
  const write = (path: string, data: string): void => writeFileSync(path, data, { mode: 0o600 });
  write(files.caCert, caCert.toString('pem'));
  write(files.serverCert, server.cert);
  write(files.serverKey, server.key);
  write(files.adminCert, admin.cert);
  write(files.adminKey, admin.key);
  write(files.saPublic, sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  write(files.saPrivate, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return files;
}
