// Shapes shared by the source layer and its callers. Data only.

export interface SourceFile {
  /** Repo-relative POSIX path (for a symlink: the link's own path). */
  path: string;
  content: Uint8Array;
  /** Git file mode of the entry that supplied the content (0o100644 or 0o100755). */
  mode?: number;
}

export interface Person {
  name: string;
  email: string;
  /** ISO 8601, UTC. */
  time: string;
}

export interface CommitInfo {
  sha: string;
  author: Person;
  committer: Person;
  message: string;
  parents: string[];
}

/** Signature policy of one source. */
export type VerifyPolicy =
  | { mode: 'off' }
  | {
      mode: 'required';
      /** Armored OpenPGP public keys. */
      pgpKeys?: string[];
      /** authorized_keys lines (`ssh-ed25519 AAAA... comment`). */
      sshKeys?: string[];
    };

export interface SourceSpec {
  /**
   * http(s):// URL (credentials may sit in it), ssh://[user@]host[:port]/path, scp-like
   * user@host:path, or a path to a local repository (bare or not).
   */
  repo: string;
  /** Branch, tag, full ref (`refs/heads/x`) or full commit sha; default: the remote HEAD's branch. */
  ref?: string;
  username?: string;
  password?: string;
  /** Files holding the username / password (Kubernetes Secrets mounted as files). */
  usernameFile?: string;
  passwordFile?: string;
  /** PEM bundle of extra trusted certificate authorities for https. */
  caFile?: string;
  /** ssh: the private key offered to the server (none when unset). */
  sshKeyFile?: string;
  /** ssh: the known_hosts file the server's host key is checked against, strictly (default ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Per network call; default 30 s. */
  timeoutMs?: number;
  /** Root of the bare caches; default $TETHER_CACHE_DIR/git or ~/.cache/tether/git. */
  cacheDir?: string;
  verify?: VerifyPolicy;
  /** Called once per HTTP request (or ssh connection) made for this source (for metrics). */
  onRequest?: (kind: GitRequestKind) => void;
}

export type GitRequestKind = 'ls-refs' | 'fetch' | 'push' | 'discover';

export interface Snapshot {
  commit: CommitInfo;
  files: SourceFile[];
}

export interface ReadOptions {
  /** Directory (or file) inside the repository; default the root. */
  path?: string;
  /** Globs relative to `path`; a file must match one (default: all files). */
  include?: string[];
  /** Globs relative to `path`; a matching file is left out (wins over include). */
  exclude?: string[];
  /** Read this commit instead of resolving the ref (no ref request). */
  sha?: string;
  /** Leave out dangling symlinks and submodules instead of refusing (see ReadTreeOptions). */
  lenient?: boolean;
}

export type Rewrite = 'force-push' | 'deleted' | 'tag-moved';

export interface PollResult {
  /** The commit the ref points at now (for 'deleted': the last one seen). */
  sha: string;
  /** True when the ref is not where the previous poll saw it (always true on the first poll). */
  changed: boolean;
  /** Set when the move is not a plain fast-forward; the caller must not treat it as routine. */
  rewrite?: Rewrite;
  /** The commit seen by the previous poll, if any. */
  previous?: string;
}

export interface RevertOptions {
  /** 1-based parent number of a merge commit to revert against. */
  mainline?: number;
  author?: { name: string; email: string };
  committer?: { name: string; email: string };
  /** Push the revert commit to the tracked branch; when false only the commit is computed. */
  push: boolean;
}

export type RevertAction = 'added' | 'modified' | 'deleted';

export interface RevertResult {
  sha: string;
  /** The full sha of the commit reverted (the revision given, resolved). */
  revertOf: string;
  files: { path: string; action: RevertAction }[];
  pushed: boolean;
}
