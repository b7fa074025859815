// Turns what can go wrong on the wire into one clear error per kind. The original error is
// kept as `cause` only after scrubbing, so no password or token can leak through it.
import { scrub, type Credentials } from './credentials.ts';
import { isSshUrl, parseSshUrl, sshHostPort } from './ssh-url.ts';
import {
  AuthenticationError,
  ConnectionRefusedError,
  DnsError,
  GitTimeoutError,
  HttpStatusError,
  NetworkError,
  NotGitServerError,
  RepositoryNotFoundError,
  SourceError,
  TlsError,
  ProtocolError,
} from './errors.ts';

/** What error messages need to know about the remote. */
export interface TransportTarget {
  /** URL without credentials. */
  url: string;
  credentials: Credentials | undefined;
  timeoutMs: number;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** A scrubbed stand-in for a low-level error, safe to attach as `cause`. */
export function safeCause(err: unknown, target: TransportTarget): Error {
  const e = err as { message?: unknown; code?: unknown; name?: unknown };
  const copy = new Error(scrub(String(e?.message ?? err), target.credentials));
  if (typeof e?.name === 'string') copy.name = e.name;
  if (typeof e?.code === 'string') (copy as NodeJS.ErrnoException).code = e.code;
  return copy;
}

function hostPort(url: string): string {
  if (isSshUrl(url)) return sshHostPort(parseSshUrl(url));
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

/** A socket-level failure (the request never got an HTTP answer). */
export function networkError(err: unknown, target: TransportTarget): SourceError {
  if (err instanceof SourceError) return err;
  const code = String((err as NodeJS.ErrnoException)?.code ?? '');
  const cause = safeCause(err, target);
  const where = hostPort(target.url);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'EAI_FAIL') {
    return new DnsError(`cannot resolve host ${where.replace(/:\d+$/, '')} for ${target.url}`, {
      hint: 'check the host name in the repository URL and the DNS configuration',
      cause,
    });
  }
  if (code === 'ECONNREFUSED') {
    return new ConnectionRefusedError(`connection refused by ${where} (git server down?) for ${target.url}`, {
      hint: 'check that the git server is running and reachable on that port',
      cause,
    });
  }
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    code.includes('CERT')
  ) {
    return new TlsError(`TLS handshake with ${where} failed (${code}) for ${target.url}`, {
      hint: 'check the server certificate; set caFile to the PEM bundle of a private certificate authority',
      cause,
    });
  }
  return new NetworkError(`network error talking to ${where} (${code || cause.message}) for ${target.url}`, {
    hint: 'check the network path to the git server',
    cause,
  });
}

export function timeoutError(target: TransportTarget): GitTimeoutError {
  return new GitTimeoutError(`no answer from ${target.url} within ${target.timeoutMs} ms`, {
    hint: 'check the git server and the network; raise timeoutMs for very slow servers',
  });
}

/** An HTTP answer that is not success. */
export function statusError(status: number, target: TransportTarget): SourceError {
  if (status === 401 || status === 403) {
    const had = target.credentials ? 'were refused' : 'are required';
    return new AuthenticationError(
      `authentication failed for ${target.url} (HTTP ${status}): credentials ${had}`,
      {
        hint: 'check the username and token (URL, usernameFile/passwordFile, or TETHER_GIT_USERNAME/TETHER_GIT_PASSWORD) and that the token may read the repository',
      },
    );
  }
  if (status === 404) {
    return new RepositoryNotFoundError(`repository not found: ${target.url} (HTTP 404)`, {
      hint: 'check the repository URL; private repositories may also answer 404 when credentials are missing',
    });
  }
  return new HttpStatusError(status, `git server ${target.url} answered HTTP ${status}`, {
    hint: status >= 500 ? 'the server failed; retry later' : 'check the repository URL',
  });
}

export function notGitServer(
  target: TransportTarget,
  contentType: string,
  preview: string,
): NotGitServerError {
  const kind =
    /html/i.test(contentType) || /<html|<!doctype/i.test(preview)
      ? 'an HTML page'
      : `"${contentType || 'no content type'}"`;
  return new NotGitServerError(`${target.url} is not a git smart-HTTP server (it answered with ${kind})`, {
    hint: 'use the clone URL of the repository (often ending in .git), not the web page URL',
  });
}

/** Maps an error thrown out of isomorphic-git (or our HTTP client) to a SourceError. */
export function toSourceError(err: unknown, target: TransportTarget): SourceError {
  if (err instanceof SourceError) return err;
  const e = err as { code?: string; data?: { statusCode?: number; response?: string; preview?: string } };
  if (e?.code === 'HttpError' && typeof e.data?.statusCode === 'number') {
    return statusError(e.data.statusCode, target);
  }
  if (e?.code === 'SmartHttpError') {
    return notGitServer(target, '', scrub(String(e.data?.preview ?? ''), target.credentials));
  }
  if (e?.code && /^E[A-Z]+$/.test(e.code)) return networkError(err, target);
  return new ProtocolError(`git operation with ${target.url} failed: ${safeCause(err, target).message}`, {
    cause: safeCause(err, target),
  });
}
