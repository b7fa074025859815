/**
 * A real git smart-HTTP server on loopback for tests: git's own `http-backend` run as CGI
 * behind a small Node HTTP server, with optional Basic auth and a log of every request
 * (so tests can count ref listings and fetches). Repositories are bare directories.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface GitRequest {
  method: string;
  path: string;
  query: string;
  service: string | undefined;
  status: number;
}

export interface GitServerOptions {
  /** Require Basic auth with these credentials for every request. */
  auth?: { username: string; password: string };
}

const gitEnv = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
};

function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, ...gitEnv, HOME: cwd, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** A bare repository at `dir` (created), writable over smart HTTP too, with a scratch clone. */
export function createBareRepo(dir: string, branch = 'main'): Repo {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--bare', '--quiet', `--initial-branch=${branch}`]);
  git(dir, ['config', 'http.receivepack', 'true']);
  return new Repo(dir, branch);
}

export class GitServer {
  readonly root: string;
  readonly requests: GitRequest[] = [];
  private server: Server | undefined;
  private port = 0;
  private readonly options: GitServerOptions;

  private constructor(root: string, options: GitServerOptions) {
    this.root = root;
    this.options = options;
  }

  static async start(options: GitServerOptions = {}): Promise<GitServer> {
    const s = new GitServer(mkdtempSync(join(tmpdir(), 'tether-git-')), options);
    await s.listen();
    return s;
  }

  /** Base URL without credentials, e.g. http://127.0.0.1:41234 */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(repo: string, credentials?: { username: string; password: string }): string {
    if (!credentials) return `${this.baseUrl}/${repo}.git`;
    const u = encodeURIComponent(credentials.username);
    const p = encodeURIComponent(credentials.password);
    return `http://${u}:${p}@127.0.0.1:${this.port}/${repo}.git`;
  }

  /** Path of the bare repository on disk (for local-path sources and direct inspection). */
  repoPath(repo: string): string {
    return join(this.root, `${repo}.git`);
  }

  createRepo(repo: string, branch = 'main'): Repo {
    return createBareRepo(this.repoPath(repo), branch);
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  async listen(port = this.port): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops serving (the port is kept so `listen()` can bring the same URL back). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.root, { recursive: true, force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: GitRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.slice(1),
      service: url.searchParams.get('service') ?? url.pathname.split('/').pop(),
      status: 0,
    };
    this.requests.push(entry);
    const { auth } = this.options;
    let remoteUser = '';
    if (auth) {
      const header = req.headers.authorization ?? '';
      const expected = 'Basic ' + Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
      if (header !== expected) {
        entry.status = 401;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('Unauthorized\n');
        return;
      }
      remoteUser = auth.username;
    }
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: remoteUser,
        REMOTE_ADDR: '127.0.0.1',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let sep = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      if (sep < 0) {
        sep = head.indexOf('\n\n');
        sepLen = 2;
      }
      if (sep < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10);
        else headers[name] = value;
      }
      entry.status = status;
      res.writeHead(status, headers);
      res.write(head.subarray(sep + sepLen));
    });
    child.stdout.on('end', () => res.end());
    child.on('error', () => {
      entry.status = 500;
      res.writeHead(500).end();
    });
  }
}

/** A bare repository plus a scratch clone used to write commits into it. */
export class Repo {
  readonly bare: string;
  readonly branch: string;
  private work: string | undefined;

  constructor(bare: string, branch: string) {
    this.bare = bare;
    this.branch = branch;
  }

  private worktree(): string {
    if (this.work) return this.work;
    this.work = mkdtempSync(join(tmpdir(), 'tether-work-'));
    git(this.work, ['init', '--quiet', `--initial-branch=${this.branch}`]);
    git(this.work, ['remote', 'add', 'origin', this.bare]);
    try {
      git(this.work, ['fetch', '--quiet', 'origin', this.branch]);
      git(this.work, ['checkout', '--quiet', '-B', this.branch, `origin/${this.branch}`]);
    } catch {
      // Empty repository: the first commit creates the branch.
    }
    return this.work;
  }

  /**
   * Writes files (string content; null deletes), commits them on the branch and pushes.
   * Returns the new commit sha.
   */
  commit(
    files: Record<string, string | Uint8Array | null>,
    message = 'update',
    env: Record<string, string> = {},
  ): string {
    const work = this.worktree();
    for (const [path, content] of Object.entries(files)) {
      const full = join(work, path);
      if (content === null) {
        rmSync(full, { force: true, recursive: true });
      } else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    git(work, ['add', '-A']);
    git(work, ['commit', '--quiet', '--allow-empty', '-m', message], env);
    git(work, ['push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${this.branch}`]);
    return git(work, ['rev-parse', 'HEAD']);
  }

  /** Runs git in the scratch clone (for branches, tags, force-pushes). */
  git(args: string[], env: Record<string, string> = {}): string {
    return git(this.worktree(), args, env);
  }

  read(path: string): string {
    return readFileSync(join(this.worktree(), path), 'utf8');
  }

  head(ref = this.branch): string {
    return git(this.bare, ['rev-parse', ref]);
  }

  dispose(): void {
    if (this.work) rmSync(this.work, { recursive: true, force: true });
  }
}
