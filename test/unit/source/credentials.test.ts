import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUnsupportedUrl, remoteTarget, scrub } from '../../../src/source/credentials.ts';
import {
  AuthenticationError,
  ConnectionRefusedError,
  DnsError,
  HttpStatusError,
  InvalidSourceError,
  NetworkError,
  NotGitServerError,
  RepositoryNotFoundError,
  TlsError,
} from '../../../src/source/errors.ts';
import { networkError, safeCause, statusError, toSourceError } from '../../../src/source/transport-errors.ts';
import { describeSource } from '../../../src/source/snapshot.ts';

const SECRET = 'hunter2-very-secret';

describe('remoteTarget', () => {
  it('strips credentials from the URL and keeps them apart', () => {
    const t = remoteTarget(
      { repo: `https://bob:${encodeURIComponent(SECRET + '@/')}@git.example.com/org/repo.git/` },
      {},
    );
    expect(t.url).toBe('https://git.example.com/org/repo.git');
    expect(t.credentials).toEqual({ username: 'bob', password: SECRET + '@/' });
  });

  it('prefers spec fields, then files, then the URL, then the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cred-'));
    writeFileSync(join(dir, 'u'), 'fileuser\n');
    writeFileSync(join(dir, 'p'), 'filepass\n');
    const env = { TETHER_GIT_USERNAME: 'envuser', TETHER_GIT_PASSWORD: 'envpass' };
    const url = 'https://urluser:urlpass@h/r.git';
    expect(remoteTarget({ repo: url, username: 'spec', password: 'specpass' }, env).credentials).toEqual({
      username: 'spec',
      password: 'specpass',
    });
    expect(
      remoteTarget({ repo: url, usernameFile: join(dir, 'u'), passwordFile: join(dir, 'p') }, env)
        .credentials,
    ).toEqual({
      username: 'fileuser',
      password: 'filepass',
    });
    expect(remoteTarget({ repo: url }, env).credentials).toEqual({
      username: 'urluser',
      password: 'urlpass',
    });
    expect(remoteTarget({ repo: 'https://h/r.git' }, env).credentials).toEqual({
      username: 'envuser',
      password: 'envpass',
    });
    expect(remoteTarget({ repo: 'https://h/r.git' }, {}).credentials).toBeUndefined();
    rmSync(dir, { recursive: true });
  });

  it('gives a token without user name a placeholder user', () => {
    expect(remoteTarget({ repo: 'https://h/r.git', password: 'tok' }, {}).credentials).toEqual({
      username: 'x-access-token',
      password: 'tok',
    });
  });

  it('names an unreadable secret file', () => {
    expect(() => remoteTarget({ repo: 'https://h/r.git', passwordFile: '/no/such/file' }, {})).toThrow(
      InvalidSourceError,
    );
  });

  it('tells supported URLs from unsupported ones', () => {
    expect(isUnsupportedUrl('git@github.com:org/repo.git')).toBe(false);
    expect(isUnsupportedUrl('ssh://git@h/r.git')).toBe(false);
    expect(isUnsupportedUrl('git://h/r.git')).toBe(true);
    expect(isUnsupportedUrl('file:///srv/repo')).toBe(true);
    expect(isUnsupportedUrl('https://h/r.git')).toBe(false);
    expect(isUnsupportedUrl('/srv/git/repo')).toBe(false);
    expect(isUnsupportedUrl('./repo')).toBe(false);
  });

  it('describes a source without its credentials', () => {
    expect(describeSource({ repo: `https://u:${SECRET}@h/r.git`, ref: 'v1' })).toBe('https://h/r.git@v1');
  });
});

describe('scrubbing and error mapping', () => {
  const target = {
    url: 'https://git.example.com/r.git',
    credentials: { username: 'u', password: SECRET },
    timeoutMs: 1000,
  };

  it('scrubs passwords in every form', () => {
    const b64 = Buffer.from(`u:${SECRET}`).toString('base64');
    const out = scrub(`x ${SECRET} https://u:${SECRET}@h/ ${b64}`, target.credentials);
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(b64);
    expect(safeCause(new Error(`failed with ${SECRET}`), target).message).not.toContain(SECRET);
  });

  it('maps socket errors by code', () => {
    const err = (code: string) => Object.assign(new Error(`boom ${SECRET}`), { code });
    expect(networkError(err('ENOTFOUND'), target)).toBeInstanceOf(DnsError);
    const refused = networkError(err('ECONNREFUSED'), target);
    expect(refused).toBeInstanceOf(ConnectionRefusedError);
    expect(refused.message).toContain('git.example.com:443');
    expect(networkError(err('DEPTH_ZERO_SELF_SIGNED_CERT'), target)).toBeInstanceOf(TlsError);
    expect(networkError(err('ERR_TLS_CERT_ALTNAME_INVALID'), target)).toBeInstanceOf(TlsError);
    const reset = networkError(err('ECONNRESET'), target);
    expect(reset).toBeInstanceOf(NetworkError);
    expect(String(reset.cause)).not.toContain(SECRET);
  });

  it('maps HTTP statuses and isomorphic-git errors', () => {
    expect(statusError(401, target)).toBeInstanceOf(AuthenticationError);
    expect(statusError(403, target).message).toBe(
      'authentication failed for https://git.example.com/r.git (HTTP 403): credentials were refused',
    );
    expect(statusError(404, target)).toBeInstanceOf(RepositoryNotFoundError);
    expect(statusError(503, target)).toBeInstanceOf(HttpStatusError);
    expect(toSourceError({ code: 'HttpError', data: { statusCode: 401 } }, target)).toBeInstanceOf(
      AuthenticationError,
    );
    expect(toSourceError({ code: 'SmartHttpError', data: { preview: '<html>' } }, target)).toBeInstanceOf(
      NotGitServerError,
    );
  });
});
