// Which repositories are remote, and where a source's HTTPS credentials come from, in order: the spec's username/password,
// the spec's usernameFile/passwordFile (mounted Secrets), the URL's user:pass@, and the
// TETHER_GIT_USERNAME/TETHER_GIT_PASSWORD environment variables. The URL handed to the
// transport never carries them; they travel in an Authorization header only.
import { readFileSync } from 'node:fs';
import { redactUrl } from '../errors.ts';
import { InvalidSourceError } from './errors.ts';
import { isSshUrl } from './ssh-url.ts';
import type { SourceSpec } from './types.ts';

export interface Credentials {
  username: string;
  password: string;
}

export interface RemoteTarget {
  /** URL without credentials. */
  url: string;
  credentials: Credentials | undefined;
}

// A token alone (no user name) needs some user name for Basic auth; forges ignore it.
const TOKEN_USER = 'x-access-token';

/** An http(s):// URL, or an ssh one (ssh:// or scp-like user@host:path). */
export function isRemote(repo: string): boolean {
  return /^https?:\/\//i.test(repo) || isSshUrl(repo);
}

/** True for URLs of transports we do not speak (git://, file://, ...). */
export function isUnsupportedUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) && !isRemote(repo);
}

function readSecretFile(path: string, what: string): string {
  try {
    // Mounted Secrets often end with a newline that is not part of the value.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidSourceError(`cannot read the git ${what} file ${path} (${code})`, {
      hint: `check that the Secret is mounted at ${path} and readable by this process`,
    });
  }
}

export function remoteTarget(spec: SourceSpec, env: NodeJS.ProcessEnv = process.env): RemoteTarget {
  let parsed: URL;
  try {
    parsed = new URL(spec.repo);
  } catch {
    throw new InvalidSourceError(`invalid repository URL ${redactUrl(spec.repo)}`, {
      hint: 'use https://host/path/repo.git or a local path',
    });
  }
  const urlUser = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const urlPass = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  const url = parsed.toString().replace(/\/+$/, '');

  const username =
    spec.username ??
    (spec.usernameFile !== undefined ? readSecretFile(spec.usernameFile, 'username') : undefined) ??
    urlUser ??
    env.TETHER_GIT_USERNAME;
  const password =
    spec.password ??
    (spec.passwordFile !== undefined ? readSecretFile(spec.passwordFile, 'password') : undefined) ??
    urlPass ??
    env.TETHER_GIT_PASSWORD;
  if (username === undefined && password === undefined) return { url, credentials: undefined };
  return {
    url,
    credentials: { username: username || TOKEN_USER, password: password ?? '' },
  };
}

export function basicAuthHeader(credentials: Credentials): string {
  return 'Basic ' + Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
}

/**
 * Removes every known secret from a text (for messages built from server output or low-level
 * errors), in addition to `user:pass@` in URLs.
 */
export function scrub(text: string, credentials: Credentials | undefined): string {
  let out = redactUrl(text);
  if (credentials) {
    for (const secret of [
      credentials.password,
      encodeURIComponent(credentials.password),
      basicAuthHeader(credentials).slice(6),
    ]) {
      if (secret.length >= 3) out = out.split(secret).join('***');
    }
  }
  return out;
}
