// Git over SSH with the system's OpenSSH client, as git itself does it: `ssh … host
// "git-upload-pack '/path'"`, spawned with an argument vector (never a shell), no user or
// system ssh config (-F /dev/null), no agent, only the given key, and the host key checked
// strictly against the given known_hosts file. The private key is never read into a message:
// ssh gets its path (a private 0600 copy when the file's mode is wider, as on a Secret
// mount), and ssh's stderr, which never holds key material, is mapped to typed errors.
//
// Two uses:
//  - `sshLsRefs`: one connection per poll, protocol v2 `ls-refs` (or the refs of a v0
//    advertisement when the server does not speak v2);
//  - `makeSshHttpClient`: the HTTP plugin isomorphic-git fetches and pushes through. It
//    speaks smart HTTP statelessly (GET info/refs, then one POST carrying the whole request),
//    which maps onto one ssh connection, as git itself uses it: GET returns the connection's
//    advertisement (with the `# service=` header smart HTTP adds) and keeps the connection;
//    the POST that follows writes its request there and returns the server's answer. A POST
//    with no connection waiting opens one and drops its advertisement. git-upload-pack and
//    git-receive-pack answer such a request exactly as they answer it over HTTP.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import {
  AuthenticationError,
  ConnectionRefusedError,
  DnsError,
  GitTimeoutError,
  HostKeyError,
  InvalidSourceError,
  NetworkError,
  ProtocolError,
  RepositoryNotFoundError,
  type SourceError,
} from './errors.ts';
import { collectBody, DEFAULT_MAX_RESPONSE_BYTES, limited, requestKind } from './http.ts';
import { lsRefsRequest, parseV1, parseV2, type RemoteRef } from './ls-refs.ts';
import { FLUSH, pkt, type PktLine } from './pkt-line.ts';
import { gitShellQuote, knownHostsName, sshHostPort, type SshLocation } from './ssh-url.ts';
import type { TransportTarget } from './transport-errors.ts';
import type { GitRequestKind } from './types.ts';

export type GitService = 'git-upload-pack' | 'git-receive-pack';

export interface SshTransport {
  location: SshLocation;
  target: TransportTarget;
  /** Private key file; undefined: no key is offered (the server must not need one). */
  keyFile: string | undefined;
  /** known_hosts file checked strictly; default ~/.ssh/known_hosts. */
  knownHostsFile: string;
  maxResponseBytes?: number;
  onRequest?: (kind: GitRequestKind) => void;
}

export function defaultKnownHostsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homedir(), '.ssh', 'known_hosts');
}

/** Why a private key file cannot be used, from its text (never quoted); undefined if it looks fine. */
export function keyProblem(text: string): 'encrypted' | 'not-a-key' | undefined {
  const m = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----\r?\n([\s\S]*?)-----END/.exec(text);
  if (!m) return 'not-a-key';
  if (m[1] === 'ENCRYPTED ' || /Proc-Type:\s*4,ENCRYPTED/.test(m[2]!)) return 'encrypted';
  if (m[1] === 'OPENSSH ') {
    const blob = Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
    const magic = 'openssh-key-v1\0';
    if (blob.toString('latin1', 0, magic.length) !== magic) return 'not-a-key';
    const len = blob.length >= magic.length + 4 ? blob.readUInt32BE(magic.length) : -1;
    if (len < 0 || magic.length + 4 + len > blob.length) return 'not-a-key';
    const cipher = blob.toString('latin1', magic.length + 4, magic.length + 4 + len);
    if (cipher !== 'none') return 'encrypted';
  }
  return undefined;
}

/** Private key copies in use; removed at exit too, should the process end before their call. */
const keyCopies = new Set<string>();
process.once('exit', () => {
  for (const dir of keyCopies) rmSync(dir, { recursive: true, force: true });
});

/**
 * The key file ssh should read: the file itself when only its owner may read it, else a
 * private copy (ssh refuses a key that others may read). `dispose` removes the copy.
 */
async function usableKey(
  t: SshTransport,
): Promise<{ path: string | undefined; dispose: () => Promise<void> }> {
  const none = { path: undefined, dispose: () => Promise.resolve() };
  if (t.keyFile === undefined) return none;
  const file = t.keyFile;
  let text: string;
  let mode: number;
  try {
    text = await readFile(file, 'utf8');
    mode = (await stat(file)).mode;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new InvalidSourceError(`cannot read the ssh key file ${file} (${code})`, {
      hint: `check that the Secret is mounted at ${file} and readable by this process`,
    });
  }
  const problem = keyProblem(text);
  if (problem === 'encrypted') {
    throw new InvalidSourceError(`the ssh key ${file} is protected by a passphrase`, {
      hint: 'use a deploy key without a passphrase (ssh-keygen -t ed25519 -N "" -f deploy-key)',
    });
  }
  if (problem === 'not-a-key') {
    throw new InvalidSourceError(`${file} is not an ssh private key`, {
      hint: 'point --ssh-key (sshKeyFile) at the private key file, e.g. the one ssh-keygen wrote, not the .pub',
    });
  }
  if ((mode & 0o077) === 0) return { path: file, dispose: none.dispose };
  const dir = await mkdtemp(join(tmpdir(), 'tether-sshkey-'));
  keyCopies.add(dir);
  const copy = join(dir, 'key');
  try {
    await copyFile(file, copy);
    await chmod(copy, 0o600);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new InvalidSourceError(
      `cannot make a private copy of the ssh key in ${tmpdir()} (${(err as NodeJS.ErrnoException).code})`,
      { hint: 'give the process a writable temporary directory, or mount the key with mode 0400' },
    );
  }
  return {
    path: copy,
    dispose: async () => {
      await rm(dir, { recursive: true, force: true });
      keyCopies.delete(dir);
    },
  };
}

/** The ssh argument vector for one git service call. */
export function sshArgs(
  t: Pick<SshTransport, 'location' | 'knownHostsFile' | 'target'>,
  keyPath: string | undefined,
  service: GitService,
  v2: boolean,
): string[] {
  const loc = t.location;
  const seconds = Math.max(1, Math.ceil(t.target.timeoutMs / 1000));
  return [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    `IdentityFile=${keyPath ?? 'none'}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${t.knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ForwardX11=no',
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    'ControlMaster=no',
    '-o',
    'ControlPath=none',
    '-o',
    'LogLevel=ERROR',
    '-o',
    `ConnectTimeout=${seconds}`,
    ...(v2 ? ['-o', 'SetEnv=GIT_PROTOCOL=version=2'] : []),
    ...(loc.port !== undefined ? ['-p', String(loc.port)] : []),
    '--',
    loc.user === undefined ? loc.host : `${loc.user}@${loc.host}`,
    `${service} ${gitShellQuote(loc.path)}`,
  ];
}

function sshTimeoutError(t: Pick<SshTransport, 'location' | 'target'>): GitTimeoutError {
  return new GitTimeoutError(
    `no answer from ${sshHostPort(t.location)} within ${t.target.timeoutMs} ms for ${t.target.url}`,
    {
      hint: 'check that the ssh server is running and reachable on that port (firewall?); raise timeoutMs for very slow servers',
    },
  );
}

/** A typed error for a failed ssh call, from its stderr and exit code (pure). */
export function sshError(
  t: Pick<SshTransport, 'location' | 'knownHostsFile' | 'target' | 'keyFile'>,
  stderr: string,
  exitCode: number | null,
): SourceError {
  const where = sshHostPort(t.location);
  const url = t.target.url;
  const last = stderr.trim().split('\n').filter(Boolean).at(-1) ?? `ssh exited with ${exitCode}`;
  const kh = t.knownHostsFile;
  const name = knownHostsName(t.location);
  const keyscan = `ssh-keyscan${t.location.port ? ` -p ${t.location.port}` : ''} ${t.location.host} >> ${kh}`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(stderr)) {
    return new HostKeyError(
      'changed',
      `the ssh host key of ${name} changed: it does not match the one in ${kh}; connection refused for ${url}`,
      {
        hint: `if the server's key was rotated on purpose, check its new fingerprint with the server's owner, then replace the line for ${name} in ${kh} (ssh-keygen -f ${kh} -R "${name}", then ${keyscan})`,
      },
    );
  }
  if (/Host key verification failed|host key is known for|No .* host key is known/.test(stderr)) {
    return new HostKeyError(
      'unknown',
      `unknown ssh host key: ${name} is not in ${kh}; connection refused for ${url}`,
      {
        hint: `add the server's key: ${keyscan}, and check the fingerprint it prints (ssh-keygen -lf ${kh}) against the one the git host publishes`,
      },
    );
  }
  if (/Permission denied \(/.test(stderr)) {
    return new AuthenticationError(
      t.keyFile === undefined
        ? `ssh authentication failed for ${url}: no key was given (${last})`
        : `ssh authentication failed for ${url}: the server refused the key ${t.keyFile} (${last})`,
      {
        hint:
          t.keyFile === undefined
            ? 'pass --ssh-key FILE (sshKeyFile in the config) with a private key the server accepts'
            : 'check that the public half of this key is a deploy key of the repository (or in the user’s authorized_keys), and the user name in the URL',
      },
    );
  }
  if (/Connection refused/.test(stderr)) {
    return new ConnectionRefusedError(`connection refused by ${where} (ssh server down?) for ${url}`, {
      hint: 'check that the ssh server is running and reachable on that port',
    });
  }
  if (/Could not resolve hostname/.test(stderr)) {
    return new DnsError(`cannot resolve host ${t.location.host} for ${url}`, {
      hint: 'check the host name in the repository URL and the DNS configuration',
    });
  }
  if (/timed out/i.test(stderr)) return sshTimeoutError(t);
  if (
    /does not appear to be a git repository|not a git repository|No such file or directory|repository not found|does not exist/i.test(
      stderr,
    )
  ) {
    return new RepositoryNotFoundError(`repository not found: ${url} (${last})`, {
      hint: 'check the repository path in the URL (scp-like paths are relative to the login’s home)',
    });
  }
  if (exitCode === 255 || /^ssh:|Connection (closed|reset)|kex_exchange/m.test(stderr)) {
    return new NetworkError(`ssh connection to ${where} failed for ${url}: ${last}`, {
      hint: 'check the network path to the ssh server',
    });
  }
  return new ProtocolError(`git over ssh with ${url} failed: ${last}`, {
    hint: 'the ssh server ran the git command, and it failed; its message is above',
  });
}

const MAX_STDERR = 64 * 1024;

/** One running `ssh host git-…-pack` with pkt-line reads on its stdout. */
class SshCall {
  private readonly t: SshTransport;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly iterator: AsyncIterator<Buffer>;
  private buf = Buffer.alloc(0);
  private eof = false;
  private stderr = '';
  private timedOut = false;
  private spawnError: Error | undefined;
  private readonly exited: Promise<number | null>;

  constructor(t: SshTransport, args: string[], dispose: () => Promise<void>) {
    this.t = t;
    this.child = spawn('ssh', args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    this.iterator = (this.child.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (s: string) => {
      if (this.stderr.length < MAX_STDERR) this.stderr += s;
    });
    // A server that exits before reading what we write: its exit status says why.
    this.child.stdin.on('error', () => undefined);
    const spawnFailed = new Promise<Error>((resolve) => this.child.once('error', resolve));
    this.exited = new Promise<number | null>((resolve) => {
      this.child.once('close', (code) => resolve(code));
      void spawnFailed.then(() => resolve(null));
    });
    void this.exited.then(dispose);
    void spawnFailed.then((err) => {
      this.spawnError = err;
    });
  }

  /** Next chunk of stdout; undefined at its end; fails after the timeout without data. */
  private async pull(): Promise<Buffer | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.timedOut = true;
        this.child.kill('SIGKILL');
        reject(sshTimeoutError(this.t));
      }, this.t.target.timeoutMs);
    });
    try {
      const r = await Promise.race([this.iterator.next(), timeout]);
      return r.done ? undefined : r.value;
    } finally {
      clearTimeout(timer);
    }
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.eof) {
      const chunk = await this.pull();
      if (chunk === undefined) this.eof = true;
      else this.buf = Buffer.concat([this.buf, chunk]);
    }
    return this.buf.length >= n;
  }

  /** The error the call ended with (waits for ssh to exit). */
  async failure(): Promise<SourceError> {
    if (this.timedOut) return sshTimeoutError(this.t);
    const code = await this.exited;
    if (this.spawnError) {
      const missing = (this.spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      return new InvalidSourceError(
        missing
          ? `cannot run ssh for ${this.t.target.url}: no ssh client on PATH`
          : `cannot run ssh for ${this.t.target.url}: ${this.spawnError.message}`,
        { hint: 'install the OpenSSH client (Debian: apt-get install openssh-client)' },
      );
    }
    return sshError(this.t, this.stderr, code);
  }

  /** One pkt-line and its raw bytes; throws the call's failure at a premature end. */
  async readPkt(): Promise<{ line: PktLine; raw: Buffer }> {
    if (!(await this.fill(4))) throw await this.failure();
    const hex = this.buf.toString('latin1', 0, 4);
    const len = /^[0-9a-f]{4}$/i.test(hex) ? parseInt(hex, 16) : -1;
    if (len < 0 || len === 3) {
      throw new ProtocolError(`the ssh server of ${this.t.target.url} did not answer in git's protocol`, {
        hint: `check that the account runs git commands (the server printed ${JSON.stringify(this.buf.toString('latin1', 0, 40))})`,
      });
    }
    const size = len < 4 ? 4 : len;
    if (!(await this.fill(size))) throw await this.failure();
    const raw = this.buf.subarray(0, size);
    this.buf = this.buf.subarray(size);
    const line: PktLine = len === 0 ? 'flush' : len === 1 ? 'delim' : len === 2 ? 'end' : raw.subarray(4);
    return { line, raw };
  }

  /** pkt-lines up to and including the next flush, as raw bytes. */
  async readToFlush(): Promise<{ lines: PktLine[]; raw: Buffer }> {
    const lines: PktLine[] = [];
    const raws: Buffer[] = [];
    for (;;) {
      const { line, raw } = await this.readPkt();
      lines.push(line);
      raws.push(raw);
      if (line === 'flush') return { lines, raw: Buffer.concat(raws) };
    }
  }

  write(data: Buffer): void {
    this.child.stdin.write(data);
  }

  /** Closes our side; the server exits once it has answered. */
  end(data?: Buffer): void {
    this.child.stdin.end(data);
  }

  /** The rest of stdout, then the call's failure if ssh exited with an error. */
  async *rest(): AsyncGenerator<Buffer> {
    try {
      if (this.buf.length) {
        const b = this.buf;
        this.buf = Buffer.alloc(0);
        yield b;
      }
      for (;;) {
        const chunk = this.eof ? undefined : await this.pull();
        if (chunk === undefined) break;
        yield chunk;
      }
      if ((await this.exited) !== 0) throw await this.failure();
    } finally {
      this.close();
    }
  }

  async finish(): Promise<void> {
    await this.exited;
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

async function openCall(t: SshTransport, service: GitService, v2: boolean): Promise<SshCall> {
  const key = await usableKey(t);
  return new SshCall(t, sshArgs(t, key.path, service, v2), key.dispose);
}

/**
 * The refs whose names start with one of `prefixes`, over one ssh connection: protocol v2
 * `ls-refs` when the server speaks it, else the refs of its v0 advertisement.
 */
export async function sshLsRefs(t: SshTransport, prefixes: string[]): Promise<RemoteRef[]> {
  t.onRequest?.('ls-refs');
  const call = await openCall(t, 'git-upload-pack', true);
  try {
    const first = await call.readPkt();
    const head = first.line;
    if (typeof head !== 'string' && head.toString('utf8').replace(/\n$/, '') === 'version 2') {
      const caps = await call.readToFlush();
      if (!caps.lines.some((l) => typeof l !== 'string' && /^ls-refs(=|\n|$)/.test(l.toString('utf8')))) {
        throw new ProtocolError(`the ssh server of ${t.target.url} speaks protocol v2 without ls-refs`);
      }
      call.write(lsRefsRequest(prefixes));
      const answer = await call.readToFlush();
      call.end(FLUSH);
      const refs = parseV2(answer.raw);
      if (!refs) {
        throw new ProtocolError(`the ssh server of ${t.target.url} sent a malformed ls-refs answer`);
      }
      await call.finish();
      return refs;
    }
    const rest = head === 'flush' ? { raw: Buffer.alloc(0) } : await call.readToFlush();
    call.end(FLUSH);
    const refs = parseV1(Buffer.concat([first.raw, rest.raw]));
    await call.finish();
    return refs.filter((r) => prefixes.some((p) => r.ref.startsWith(p)));
  } finally {
    call.close();
  }
}

function response(
  url: string,
  method: string,
  statusCode: number,
  contentType: string,
  body: AsyncIterableIterator<Uint8Array>,
): GitHttpResponse {
  return {
    url,
    method,
    statusCode,
    statusMessage: statusCode === 200 ? 'OK' : 'Not Found',
    headers: { 'content-type': contentType },
    body,
  };
}

function once(data: Buffer): AsyncIterableIterator<Uint8Array> {
  return Readable.from([data])[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>;
}

/** Ends a call that has nothing more to say: a flush (no wants, no commands), then close. */
function release(call: SshCall): void {
  call.end(FLUSH);
  void call.finish().finally(() => call.close());
}

/**
 * The HTTP plugin for isomorphic-git that carries its smart-HTTP requests over ssh, and
 * `idle`, to call once isomorphic-git's call is over: it ends a connection a GET left open
 * for a POST that never came (nothing to fetch, a push cancelled).
 */
export function makeSshHttpClient(t: SshTransport): HttpClient & { idle: () => void } {
  const max = t.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  // The connection a GET left open for the POST that follows it.
  let waiting: { service: GitService; call: SshCall; timer: NodeJS.Timeout } | undefined;
  const take = (service: GitService): SshCall | undefined => {
    const w = waiting;
    waiting = undefined;
    if (!w) return undefined;
    clearTimeout(w.timer);
    if (w.service === service) return w.call;
    release(w.call);
    return undefined;
  };

  async function advertised(service: GitService): Promise<{ call: SshCall; advertisement: Buffer }> {
    const call = await openCall(t, service, false);
    try {
      return { call, advertisement: (await call.readToFlush()).raw };
    } catch (err) {
      call.close();
      throw err;
    }
  }

  async function request(req: GitHttpRequest): Promise<GitHttpResponse> {
    const url = new URL(req.url);
    const method = req.method ?? 'GET';
    const body = await collectBody(req.body);
    const service = method === 'GET' ? url.searchParams.get('service') : url.pathname.split('/').pop();
    if (service !== 'git-upload-pack' && service !== 'git-receive-pack') {
      return response(req.url, method, 404, 'text/plain', once(Buffer.from('not a git service\n')));
    }
    t.onRequest?.(requestKind(url, method, body));
    const kept = take(service);
    if (method === 'GET') {
      if (kept) release(kept);
      const { call, advertisement } = await advertised(service);
      // A safety net behind idle(): no POST within the timeout, the server is told goodbye.
      const timer = setTimeout(() => {
        if (waiting?.call === call) waiting = undefined;
        release(call);
      }, t.target.timeoutMs);
      timer.unref();
      waiting = { service, call, timer };
      const framed = Buffer.concat([pkt(`# service=${service}\n`), FLUSH, advertisement]);
      return response(req.url, method, 200, `application/x-${service}-advertisement`, once(framed));
    }
    const call = kept ?? (await advertised(service)).call;
    call.end(body);
    return response(
      req.url,
      method,
      200,
      `application/x-${service}-result`,
      limited(call.rest(), max, t.target),
    );
  }
  return {
    request,
    idle: () => {
      const kept = waiting && take(waiting.service);
      if (kept) release(kept);
    },
  };
}
