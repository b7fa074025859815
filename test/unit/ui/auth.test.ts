import type { IncomingMessage } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UiAuthError } from '../../../src/ui/server/auth.ts';
import { createAuthenticator } from '../../../src/ui/server/auth.ts';
import { tempDir } from '../audit/helpers.ts';

const request = (authorization?: string) =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('credentials of the status page', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  beforeEach(async () => (dir = await tempDir()));
  afterEach(() => dir.cleanup());

  it('is off without ui.auth', () => {
    expect(createAuthenticator(undefined)).toBeUndefined();
  });

  it('takes the bearer token of its file (whitespace dropped) and nothing else, and follows a rotated file', () => {
    const file = join(dir.dir, 'token');
    writeFileSync(file, 's3cret-token\n');
    const auth = createAuthenticator({ bearerTokenFile: file })!;
    expect(auth.challenge).toMatch(/^Bearer /);
    expect(auth.check(request('Bearer s3cret-token'))).toBe(true);
    expect(auth.check(request('bearer   s3cret-token'))).toBe(true);
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Bearer s3cret',
      'Bearer s3cret-token2',
      basic('x', 's3cret-token'),
    ])
      expect(auth.check(request(h))).toBe(false);
    writeFileSync(file, 'rotated-token-with-another-length\n');
    expect(auth.check(request('Bearer s3cret-token'))).toBe(false);
    expect(auth.check(request('Bearer rotated-token-with-another-length'))).toBe(true);
  });

  it('takes any user:password line of the basic auth file, and the token too when both are set', () => {
    const users = join(dir.dir, 'users');
    const token = join(dir.dir, 'token');
    writeFileSync(users, '# operators\nada:correct horse:battery\n\nbob:hunter2\n');
    writeFileSync(token, 'tok');
    const auth = createAuthenticator({ basicAuthFile: users, bearerTokenFile: token })!;
    expect(auth.challenge).toMatch(/^Basic realm="tether"/);
    expect(auth.check(request(basic('ada', 'correct horse:battery')))).toBe(true);
    expect(auth.check(request(basic('bob', 'hunter2')))).toBe(true);
    expect(auth.check(request('Bearer tok'))).toBe(true);
    for (const h of [
      basic('ada', 'hunter2'),
      basic('eve', 'hunter2'),
      basic('bob', ''),
      'Basic !!!',
      'Basic ',
    ])
      expect(auth.check(request(h))).toBe(false);
  });

  it('refuses to start on a missing, empty or malformed file, naming it but never its content', () => {
    const file = join(dir.dir, 'f');
    expect(() => createAuthenticator({ bearerTokenFile: file })).toThrow(
      /cannot read the bearer token file .*\/f$/,
    );
    writeFileSync(file, '  \n');
    expect(() => createAuthenticator({ bearerTokenFile: file })).toThrow(/is empty/);
    writeFileSync(file, 'ada\n');
    expect(() => createAuthenticator({ basicAuthFile: file })).toThrow(
      /line 1 of the basic auth file .* is not user:password/,
    );
  });

  it('refuses every request once its file is gone, and says why', () => {
    const file = join(dir.dir, 'token');
    writeFileSync(file, 'tok');
    const errors: UiAuthError[] = [];
    const auth = createAuthenticator({ bearerTokenFile: file }, (e) => errors.push(e))!;
    rmSync(file);
    expect(auth.check(request('Bearer tok'))).toBe(false);
    expect(errors[0]?.message).toMatch(/cannot read the bearer token file/);
  });
});
