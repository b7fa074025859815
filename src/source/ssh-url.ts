// SSH repository addresses, read the way git reads them:
//   ssh://[user@]host[:port]/path    the path is absolute (`/~user/x` and `/~/x` are home-relative)
//   user@host:path                   scp-like: the path is relative to the login's home unless
//                                     it starts with `/`; port 22
//   [user@host:port]:path            scp-like with a port (git's bracketed form; user@ optional)
// (the plain scp-like form needs its `user@`, so that `dir:file` stays a local path).
// Pure: no I/O.
import { InvalidSourceError } from './errors.ts';

export interface SshLocation {
  /** Login name; undefined: ssh's default (the local user). */
  user: string | undefined;
  host: string;
  /** undefined: port 22. */
  port: number | undefined;
  /** The path as the server's git-upload-pack/git-receive-pack gets it. */
  path: string;
  /**
   * One spelling per repository, for cache keys: `ssh://user@host:port/path`, a relative path
   * written `/~/path` (both forms of the same repository share a cache, two repositories
   * never do). Carries no secret: ssh URLs hold none.
   */
  canonical: string;
}

const SSH_SCHEME = /^(?:ssh|git\+ssh|ssh\+git):\/\//i;
const SCP_LIKE = /^([^/@:\s]+)@(\[[^\]/]+\]|[^/:\s[\]]+):(?!\/\/)(.+)$/;
const SCP_BRACKETED = /^\[(?:([^/@:\s\]]+)@)?([^/@\s\]]+):(\d+)\]:(.+)$/;

/** True for `ssh://…` (and git's `git+ssh://`, `ssh+git://`) and scp-like `user@host:path`. */
export function isSshUrl(repo: string): boolean {
  return (
    SSH_SCHEME.test(repo) ||
    (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) && (SCP_LIKE.test(repo) || SCP_BRACKETED.test(repo)))
  );
}

function invalid(repo: string, why: string): InvalidSourceError {
  return new InvalidSourceError(`invalid ssh repository address ${repo}: ${why}`, {
    hint: 'use ssh://git@host:port/org/repo.git or git@host:org/repo.git',
  });
}

/** Parses an ssh repository address; throws InvalidSourceError naming what is wrong. */
export function parseSshUrl(repo: string): SshLocation {
  let user: string | undefined;
  let host: string;
  let port: number | undefined;
  let path: string;
  if (SSH_SCHEME.test(repo)) {
    const rest = repo.replace(SSH_SCHEME, '');
    const slash = rest.indexOf('/');
    if (slash < 0) throw invalid(repo, 'no repository path');
    const authority = rest.slice(0, slash);
    const at = authority.lastIndexOf('@');
    const userinfo = at < 0 ? undefined : authority.slice(0, at);
    if (userinfo?.includes(':')) {
      // Never echo what follows the colon: it is a password.
      throw new InvalidSourceError(
        `invalid ssh repository address ${repo.replace(/\/\/[^/]*@/, '//***@')}: a password in an ssh URL is not used`,
        { hint: 'ssh authenticates with a private key: pass --ssh-key FILE (sshKeyFile in the config)' },
      );
    }
    user = userinfo === undefined ? undefined : decodeURIComponent(userinfo);
    const hostPort = authority.slice(at + 1);
    const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d*))?$/.exec(hostPort);
    if (!m) throw invalid(repo, `cannot read host and port from "${hostPort}"`);
    host = m[1]!.replace(/^\[(.*)\]$/, '$1');
    if (m[2]) {
      port = Number(m[2]);
      if (!(port >= 1 && port <= 65535)) throw invalid(repo, `port ${m[2]} is out of range`);
    }
    path = decodeURIComponent(rest.slice(slash));
    // ssh://host/~user/x names a home-relative path, as in git.
    if (path.startsWith('/~')) path = path.slice(1);
  } else if (SCP_BRACKETED.test(repo)) {
    const m = SCP_BRACKETED.exec(repo)!;
    user = m[1];
    host = m[2]!;
    port = Number(m[3]);
    if (!(port >= 1 && port <= 65535)) throw invalid(repo, `port ${m[3]} is out of range`);
    path = m[4]!;
  } else {
    const m = SCP_LIKE.exec(repo);
    if (!m) throw invalid(repo, 'neither ssh://… nor user@host:path');
    user = m[1]!;
    host = m[2]!.replace(/^\[(.*)\]$/, '$1');
    path = m[3]!;
  }
  path = path.replace(/\/+$/, '');
  if (host === '' || host.startsWith('-')) throw invalid(repo, `bad host name "${host}"`);
  if (user !== undefined && (user === '' || user.startsWith('-'))) throw invalid(repo, `bad user "${user}"`);
  if (path === '' || path === '/' || path.startsWith('-'))
    throw invalid(repo, `bad repository path "${path}"`);
  if (/[\0\n\r]/.test(path + host + (user ?? ''))) throw invalid(repo, 'control characters');
  const absolute = path.startsWith('/') ? path : path.startsWith('~') ? `/${path}` : `/~/${path}`;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const canonical = `ssh://${user === undefined ? '' : `${user}@`}${bracketed}:${port ?? 22}${absolute}`;
  return { user, host, port, path, canonical };
}

/** `host:port` for messages. */
export function sshHostPort(loc: SshLocation): string {
  return `${loc.host.includes(':') ? `[${loc.host}]` : loc.host}:${loc.port ?? 22}`;
}

/** The host as known_hosts names it: `host` on port 22, `[host]:port` on any other. */
export function knownHostsName(loc: SshLocation): string {
  return loc.port === undefined || loc.port === 22 ? loc.host : `[${loc.host}]:${loc.port}`;
}

/** Single-quotes a path for the remote shell exactly as git does (sq_quote_buf). */
export function gitShellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`).replace(/!/g, `'\\!'`)}'`;
}
