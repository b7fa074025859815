/**
 * A real OpenSSH server (Debian's openssh-server, /usr/sbin/sshd) on a loopback port for
 * tests of git over ssh: its own host key, public-key login only (the test process's user,
 * root in CI: PermitRootLogin prohibit-password), GIT_PROTOCOL accepted so protocol v2
 * works, no ssh config of the machine read. Repositories are bare directories on disk that
 * the login reaches by path (git-upload-pack and git-receive-pack run as over any ssh host).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createBareRepo, type Repo } from './git-server.ts';
import { makeSshKey, type SshKey } from './git-keys.ts';

export const SSHD = '/usr/sbin/sshd';

async function freePort(host: string): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export class Sshd {
  readonly root: string;
  readonly host = '127.0.0.1';
  readonly user = userInfo().username;
  port = 0;
  /** The host key's public line (`ssh-ed25519 AAAA…`). */
  hostPublic = '';
  /** A client key the server accepts. */
  clientKey!: SshKey;
  private child: ChildProcess | undefined;
  private log = '';
  private constructor(root: string) {
    this.root = root;
  }

  /** `acceptGitProtocol: false`: a server that drops GIT_PROTOCOL, so git speaks protocol v0. */
  static async start(opts: { acceptGitProtocol?: boolean } = {}): Promise<Sshd> {
    const s = new Sshd(mkdtempSync(join(tmpdir(), 'tether-sshd-')));
    try {
      await s.boot(opts.acceptGitProtocol ?? true);
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  private async boot(acceptGitProtocol: boolean): Promise<void> {
    // sshd's privilege-separation directory (a package install creates it only at boot).
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKey = await makeSshKey('ed25519');
    this.hostPublic = hostKey.publicLine.split(' ').slice(0, 2).join(' ');
    this.clientKey = await makeSshKey('ed25519');
    writeFileSync(join(this.root, 'authorized_keys'), this.clientKey.publicLine + '\n', { mode: 0o600 });
    this.port = await freePort(this.host);
    // Every command a client runs is logged with its GIT_PROTOCOL, then run as asked (the way
    // git hosting shells such as gitolite wrap git-upload-pack).
    const wrapper = join(this.root, 'log-command.sh');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nprintf '%s\\t%s\\n' "\${GIT_PROTOCOL:-}" "$SSH_ORIGINAL_COMMAND" >> ${join(this.root, 'commands.log')}\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`,
      { mode: 0o755 },
    );
    const config = join(this.root, 'sshd_config');
    writeFileSync(
      config,
      [
        `Port ${this.port}`,
        `ListenAddress ${this.host}`,
        `HostKey ${hostKey.privatePath}`,
        `AuthorizedKeysFile ${join(this.root, 'authorized_keys')}`,
        `PidFile ${join(this.root, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        // The keys live in a temporary directory (/tmp is world-writable).
        'StrictModes no',
        'UsePAM no',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        ...(acceptGitProtocol ? ['AcceptEnv GIT_PROTOCOL'] : []),
        `ForceCommand ${wrapper}`,
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`sshd did not start within 10 s:\n${this.log}`)),
        10_000,
      );
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s: string) => {
        this.log += s;
        if (this.log.includes('Server listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited with ${code}:\n${this.log}`));
      });
    });
    // The host key file stays in place for the server; its directory is removed in close().
    this.disposeHostKey = () => hostKey.dispose();
  }

  private disposeHostKey: () => Promise<void> = () => Promise.resolve();

  /** sshd's own log (connections, refusals), for assertions and failure messages. */
  get output(): string {
    return this.log;
  }

  /** `ssh://user@127.0.0.1:port/abs/path` of a repository path on disk. */
  url(path: string): string {
    return `ssh://${this.user}@${this.host}:${this.port}${path}`;
  }

  /** The known_hosts line for this server. */
  get knownHostsLine(): string {
    return `[${this.host}]:${this.port} ${this.hostPublic}`;
  }

  /** Writes a known_hosts file holding this server's key (or `lines` instead). */
  knownHosts(name = 'known_hosts', lines = [this.knownHostsLine]): string {
    const file = join(this.root, name);
    writeFileSync(file, lines.map((l) => l + '\n').join(''));
    return file;
  }

  /** Lets a further public key log in. */
  authorize(publicLine: string): void {
    appendFileSync(join(this.root, 'authorized_keys'), publicLine + '\n');
  }

  /** A bare repository under the server's directory, with a scratch clone to commit with. */
  createRepo(name: string, branch = 'main'): Repo {
    return createBareRepo(join(this.root, 'repos', `${name}.git`), branch);
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    await this.clientKey?.dispose();
    await this.disposeHostKey();
    rmSync(this.root, { recursive: true, force: true });
  }

  /** The commands clients ran, oldest first, each with the GIT_PROTOCOL it was given. */
  commands(): { protocol: string; command: string }[] {
    let text: string;
    try {
      text = readFileSync(join(this.root, 'commands.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [protocol, ...rest] = line.split('\t');
        return { protocol: protocol ?? '', command: rest.join('\t') };
      });
  }

  /** Successful logins so far (from sshd's log). */
  logins(): number {
    return this.log.split('\n').filter((l) => l.includes('Accepted publickey')).length;
  }

  /** Logged-in sessions not closed yet (from sshd's log). */
  openSessions(): number {
    return this.logins() - this.log.split('\n').filter((l) => l.includes('Disconnected from user')).length;
  }
}
