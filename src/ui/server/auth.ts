/**
 * Optional credentials for the status page and the agent's data endpoints: a bearer token,
 * and/or users with passwords for HTTP basic auth, each read from a file (a mounted Secret).
 * A file that changes (a rotated Secret) is read again at the next request. Secrets are
 * compared in constant time (both sides hashed first, so not even the length leaks), and
 * never logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { UiAuthConfig } from '../../config/types.ts';
import { TetherError } from '../../errors.ts';

export class UiAuthError extends TetherError {}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function same(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}

/** A file read again when its modification time or size changes. */
class WatchedFile<T> {
  private stamp = '';
  private value: T | undefined;
  private readonly path: string;
  private readonly what: string;
  private readonly parse: (text: string) => T;

  constructor(path: string, what: string, parse: (text: string) => T) {
    this.path = path;
    this.what = what;
    this.parse = parse;
  }

  get(): T {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (stamp === this.stamp && this.value !== undefined) return this.value;
      const value = this.parse(readFileSync(this.path, 'utf8'));
      this.stamp = stamp;
      this.value = value;
      return value;
    } catch (e) {
      if (e instanceof UiAuthError) throw e;
      throw new UiAuthError(`ui.auth: cannot read the ${this.what} file ${this.path}`, {
        hint: `mount the secret at that path or fix ui.auth in the config`,
        cause: e,
      });
    }
  }
}

function parseToken(path: string): (text: string) => Buffer {
  return (text) => {
    const token = text.trim();
    if (token === '')
      throw new UiAuthError(`ui.auth: the bearer token file ${path} is empty`, {
        hint: 'an empty token would accept anyone; put a long random value in it',
      });
    return digest(token);
  };
}

interface User {
  name: Buffer;
  password: Buffer;
}

function parseUsers(path: string): (text: string) => User[] {
  return (text) => {
    const users: User[] = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '' || line.trimStart().startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0 || colon === line.length - 1)
        throw new UiAuthError(`ui.auth: line ${i + 1} of the basic auth file ${path} is not user:password`, {
          hint: 'one user:password per line; # starts a comment',
        });
      users.push({ name: digest(line.slice(0, colon)), password: digest(line.slice(colon + 1)) });
    });
    if (users.length === 0)
      throw new UiAuthError(`ui.auth: the basic auth file ${path} lists no user`, {
        hint: 'one user:password per line',
      });
    return users;
  };
}

export interface Authenticator {
  /** True when the request carries a valid credential. */
  check(req: IncomingMessage): boolean;
  /** The WWW-Authenticate challenge of a 401. */
  challenge: string;
}

/**
 * undefined when no auth is configured. Reads (and so checks) the files now: a missing one
 * fails the start. A file that cannot be read later refuses every request (`onError` says why).
 */
export function createAuthenticator(
  config: UiAuthConfig | undefined,
  onError: (e: UiAuthError) => void = () => {},
): Authenticator | undefined {
  if (!config) return undefined;
  const token = config.bearerTokenFile
    ? new WatchedFile(config.bearerTokenFile, 'bearer token', parseToken(config.bearerTokenFile))
    : undefined;
  const users = config.basicAuthFile
    ? new WatchedFile(config.basicAuthFile, 'basic auth', parseUsers(config.basicAuthFile))
    : undefined;
  token?.get();
  users?.get();
  return {
    challenge: users ? 'Basic realm="tether", charset="UTF-8"' : 'Bearer realm="tether"',
    check(req) {
      try {
        return matches(req);
      } catch (e) {
        if (!(e instanceof UiAuthError)) throw e;
        onError(e);
        return false;
      }
    },
  };

  function matches(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (space < 0 || value === '') return false;
    if (scheme === 'bearer' && token) return same(digest(value), token.get());
    if (scheme === 'basic' && users) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      const name = digest(decoded.slice(0, colon));
      const password = digest(decoded.slice(colon + 1));
      // Every user is compared, so the time taken does not say which name exists.
      let ok = false;
      for (const u of users.get()) {
        const n = same(name, u.name);
        const p = same(password, u.password);
        if (n && p) ok = true;
      }
      return ok;
    }
    return false;
  }
}
