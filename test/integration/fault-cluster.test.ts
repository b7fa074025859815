/**
 * The fault harness against itself: a private etcd and kube-apiserver that the tests kill,
 * stop, continue and restart, and a git server stopped and brought back on the same port.
 * The shared control plane of the run must come out of this untouched.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startFaultCluster, type FaultCluster } from '../support/fault-cluster.ts';
import { GitServer } from '../support/git-server.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion (never throws for a non-zero exit); killed after killAfterMs. */
function run(cmd: string, args: string[], killAfterMs = 30_000): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: killAfterMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** SHA-256 fingerprint of the certificate the server at url presents. */
function servingCert(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

let fc: FaultCluster | undefined;

function cluster(): FaultCluster {
  if (!fc) throw new Error('fault cluster did not start');
  return fc;
}

/** kubectl against the fault cluster, every request bounded to 3s. */
function kubectl(...args: string[]): Promise<Run> {
  return run('kubectl', ['--kubeconfig', cluster().kubeconfig, '--request-timeout=3s', ...args]);
}

/** One GET, no discovery: its time is the request's, bounded by --request-timeout. */
function getRaw(path = '/api/v1/namespaces/default/configmaps/survivor'): Promise<Run> {
  return kubectl('get', `--raw=${path}`);
}

async function configMapValue(): Promise<string> {
  const r = await kubectl('get', 'configmap', 'survivor', '-n', 'default', '-o', 'jsonpath={.data.k}');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  const t = Date.now();
  fc = await startFaultCluster();
  process.stderr.write(`[fault] private control plane at ${fc.server} in ${Date.now() - t}ms\n`);
}, 300_000);

afterAll(async () => {
  const root = fc?.dir;
  await fc?.down();
  if (!root) return;
  const left = await run('pgrep', ['-f', root]);
  expect(left.stdout.trim(), `processes left running from ${root}`).toBe('');
  expect(left.code).toBe(1); // pgrep: nothing matched
  // The shared control plane the rest of the run uses is still there.
  const shared = await run('kubectl', [
    '--kubeconfig',
    inject('kubeconfig'),
    '--request-timeout=5s',
    'get',
    '--raw=/readyz',
  ]);
  expect(shared.stdout.trim()).toBe('ok');
});

describe('fault cluster', () => {
  // A test that fails half-way must not leave its fault to the next one.
  beforeEach(async () => {
    await cluster().heal();
  });

  it('is a private control plane, not the shared one', async () => {
    const shared = await run('kubectl', [
      '--kubeconfig',
      inject('kubeconfig'),
      'config',
      'view',
      '--minify',
      '-o',
      'jsonpath={.clusters[0].cluster.server}',
    ]);
    expect(shared.stdout).not.toBe(cluster().server);
    expect(cluster().etcd.state()).toBe('running');
    expect(cluster().apiserver.state()).toBe('running');
    expect(cluster().processes().sort()).toEqual([cluster().etcd.pid, cluster().apiserver.pid].sort());
    const r = await kubectl(
      'create',
      'configmap',
      'survivor',
      '-n',
      'default',
      '--from-literal=k=before-the-crash',
    );
    expect(r.stderr).toBe('');
    expect(await configMapValue()).toBe('before-the-crash');
  });

  it('etcd killed: requests fail; etcd restarted: the data is still there', async () => {
    const fc = cluster();
    const oldPid = fc.etcd.pid;
    await fc.etcd.kill();
    expect(fc.etcd.state()).toBe('gone');
    expect(fc.apiserver.state()).toBe('running');
    const r = await getRaw();
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(10_000);

    const t = Date.now();
    await fc.etcd.restart();
    const etcdMs = Date.now() - t;
    await fc.ready();
    process.stderr.write(
      `[fault] etcd restart ${etcdMs}ms, apiserver ready again after ${Date.now() - t}ms\n`,
    );
    expect(fc.etcd.pid).not.toBe(oldPid);
    expect(fc.etcd.port).toBe(Number(new URL(fc.etcdUrl).port));
    expect(await configMapValue()).toBe('before-the-crash');
  });

  it('kube-apiserver stopped: a request times out; continued: it answers', async () => {
    const fc = cluster();
    await fc.apiserver.stop();
    try {
      expect(fc.apiserver.state()).toBe('stopped');
      const r = await getRaw();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/timeout|deadline/i);
      expect(r.ms).toBeGreaterThanOrEqual(2_900);
      expect(r.ms).toBeLessThan(10_000);
    } finally {
      await fc.apiserver.cont();
    }
    expect(fc.apiserver.state()).toBe('running');
    expect(await configMapValue()).toBe('before-the-crash');
  });

  it('kube-apiserver killed and restarted: the same kubeconfig works', async () => {
    const fc = cluster();
    const cert = await servingCert(fc.server);
    const port = fc.apiserver.port;
    await fc.apiserver.kill();
    expect(fc.apiserver.state()).toBe('gone');
    const r = await getRaw();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refused/i);

    const t = Date.now();
    await fc.apiserver.restart();
    process.stderr.write(`[fault] kube-apiserver restart ${Date.now() - t}ms\n`);
    expect(fc.apiserver.port).toBe(port);
    expect(await servingCert(fc.server)).toBe(cert);
    expect(await configMapValue()).toBe('before-the-crash');
    expect((await kubectl('create', 'configmap', 'after', '-n', 'default')).code).toBe(0);
  });

  it('etcd stopped: a request times out; continued: it answers', async () => {
    const fc = cluster();
    await fc.etcd.stop();
    expect(fc.etcd.state()).toBe('stopped');
    const r = await getRaw();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/timeout|deadline/i);
    expect(r.ms).toBeGreaterThanOrEqual(2_900);
    expect(r.ms).toBeLessThan(10_000);
    await fc.etcd.cont();
    await fc.ready();
    expect(await configMapValue()).toBe('before-the-crash');
    // Left stopped on purpose: afterAll's down() must kill a stopped process too.
    await fc.etcd.stop();
  });
});

describe('git server stopped and brought back on the same port', () => {
  let git: GitServer | undefined;
  afterAll(async () => {
    await git?.close();
  });

  it('ls-remote fails while stopped and works after listen()', async () => {
    git = await GitServer.start();
    const sha = git.createRepo('r').commit({ 'a.yaml': 'a: 1\n' });
    const url = git.url('r');
    const lsRemote = (): Promise<Run> => run('git', ['ls-remote', url, 'refs/heads/main'], 15_000);

    expect((await lsRemote()).stdout).toContain(sha);
    await git.stop();
    const down = await lsRemote();
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/connect|refused/i);
    await git.listen();
    expect(git.url('r')).toBe(url);
    const up = await lsRemote();
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(sha);
  });
});
