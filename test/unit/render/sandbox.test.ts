import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests } from '../../../src/manifests/index.ts';
import type { SourceFile } from '../../../src/manifests/index.ts';
import { renderDirectory } from '../../../src/render/index.ts';
import { sandboxed, sandboxProgram } from '../../../src/render/sandbox.ts';
import { COMMIT, file } from '../manifests/helpers.ts';

const SECRET = 'tether-sandbox-secret-7f3a91';

/** The environment without TETHER_RENDER_SANDBOX: what the probe finds when nobody turned it off. */
const { TETHER_RENDER_SANDBOX: _off, ...envOn } = process.env;

const script = (path: string, body: string): SourceFile => ({
  ...file(path, `#!/bin/sh\n${body}\n`),
  mode: 0o100755,
});

/**
 * A command renderer that runs `probe` (shell) and prints a ConfigMap whose data.result is
 * the probe's output (one line), so the test sees what the renderer could do.
 */
function probeRepo(probe: string): SourceFile[] {
  return [
    file('gen/tether-render.yaml', 'renderer: command\ncommand: ["./probe.sh"]\ntimeoutSeconds: 30\n'),
    file('gen/inside.txt', 'inside-the-commit\n'),
    script(
      'gen/probe.sh',
      [
        `result=$( { ${probe} ; } 2>/dev/null | tr -d '\\n"\\\\' | head -c 200)`,
        `printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: probe}\\ndata:\\n  result: "%s"\\n' "$result"`,
      ].join('\n'),
    ),
  ];
}

async function probe(body: string, sandbox: 'on' | 'off' = 'on'): Promise<string> {
  const before = process.env['TETHER_RENDER_SANDBOX'];
  if (sandbox === 'off') process.env['TETHER_RENDER_SANDBOX'] = 'off';
  else delete process.env['TETHER_RENDER_SANDBOX'];
  try {
    const rendered = await renderDirectory(probeRepo(body), 'gen', { commit: COMMIT, allowCommands: true });
    const [m] = loadManifests([rendered.file], { commit: COMMIT });
    return (m?.object['data'] as { result: string }).result;
  } finally {
    if (before === undefined) delete process.env['TETHER_RENDER_SANDBOX'];
    else process.env['TETHER_RENDER_SANDBOX'] = before;
  }
}

let outside: string;
let server: Server;
let port: number;
let requests = 0;

beforeAll(async () => {
  // Not skipped: the sandbox is what keeps a repository's renderer away from the agent's
  // files and network. CI installs bubblewrap.
  if (!sandboxProgram(envOn))
    throw new Error(
      'bubblewrap (bwrap) is not installed or cannot create namespaces here: install it (apt-get install bubblewrap; CI installs it) to run the sandbox tests',
    );
  outside = mkdtempSync(join(tmpdir(), 'tether-sandbox-test-'));
  writeFileSync(join(outside, 'secret.txt'), `${SECRET}\n`);
  server = createServer((_req, res) => {
    requests++;
    res.end('reached\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  if (outside) rmSync(outside, { recursive: true, force: true });
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('renderer sandbox (bubblewrap)', () => {
  it('lets the renderer read the commit it renders', async () => {
    expect(await probe('cat inside.txt')).toBe('inside-the-commit');
  });

  it('keeps files outside the repository from a command renderer', async () => {
    const read = `cat ${join(outside, 'secret.txt')} || echo unreadable`;
    expect(await probe(read)).toBe('unreadable');
    // Nor the machine's own files.
    expect(await probe('cat /etc/passwd || echo unreadable')).toBe('unreadable');
    expect(await probe(`ls ${tmpdir()} | grep -c tether-sandbox-test- || true`)).toBe('0');
    // The control: without the sandbox the same renderer reads it. So the probe works.
    expect(await probe(read, 'off')).toBe(SECRET);
  });

  it('keeps a command renderer from writing outside its own copy of the repository', async () => {
    const target = join(outside, 'written.txt');
    await probe(`echo pwned > ${target}; echo done`);
    expect(existsSync(target)).toBe(false);
    await probe(`echo pwned > ${target}; echo done`, 'off');
    expect(readFileSync(target, 'utf8')).toBe('pwned\n');
    rmSync(target);
  });

  it('gives a command renderer no network, not even loopback', async () => {
    const url = `http://127.0.0.1:${port}/x`;
    const fetch = existsSync('/usr/bin/curl')
      ? `/usr/bin/curl -sS -m 5 ${url} || echo unreachable`
      : `git ls-remote ${url} || echo unreachable`;
    requests = 0;
    expect(await probe(fetch)).toBe('unreachable');
    expect(requests).toBe(0);
    // The control: the server is there for an unsandboxed process.
    await probe(fetch, 'off');
    expect(requests).toBeGreaterThan(0);
  });
});

describe('sandboxProgram', () => {
  it('finds a working bwrap, and is off with TETHER_RENDER_SANDBOX=off', () => {
    expect(sandboxProgram(envOn)).toMatch(/\/bwrap$/);
    expect(sandboxProgram({ ...envOn, TETHER_RENDER_SANDBOX: 'off' })).toBeNull();
    // Turning it off for one call does not turn it off for the next.
    expect(sandboxProgram(envOn)).toMatch(/\/bwrap$/);
  });
});

describe('sandboxed', () => {
  const spec = {
    readOnly: ['/tmp/ws/src', '/opt/bin/kustomize', '/usr/bin/helm'],
    writable: ['/tmp/ws/run-1'],
    network: false,
    cwd: '/tmp/ws/src/app',
  };

  it('runs argv itself without bwrap', () => {
    expect(sandboxed(['kustomize', 'build', '.'], spec, null)).toEqual(['kustomize', 'build', '.']);
  });

  it('binds the commit and the binary read-only, the scratch directory writable, no network', () => {
    const argv = sandboxed(['/opt/bin/kustomize', 'build', '.'], spec, '/usr/bin/bwrap');
    expect(argv[0]).toBe('/usr/bin/bwrap');
    expect(argv).toContain('--unshare-all');
    expect(argv).not.toContain('--share-net');
    const joined = argv.join(' ');
    expect(joined).toContain('--ro-bind /tmp/ws/src /tmp/ws/src');
    expect(joined).toContain('--ro-bind /opt/bin/kustomize /opt/bin/kustomize');
    // Under /usr already: not bound twice.
    expect(joined).not.toContain('--ro-bind /usr/bin/helm');
    expect(joined).toContain('--bind /tmp/ws/run-1 /tmp/ws/run-1');
    expect(joined).toContain('--tmpfs /tmp');
    expect(joined).not.toContain('/etc/resolv.conf');
    expect(argv.slice(-6)).toEqual(['--chdir', '/tmp/ws/src/app', '--', '/opt/bin/kustomize', 'build', '.']);
  });

  it('shares the network and name resolution only when asked', () => {
    const argv = sandboxed(['kustomize'], { ...spec, network: true }, '/usr/bin/bwrap');
    expect(argv).toContain('--share-net');
    if (existsSync('/etc/resolv.conf'))
      expect(argv.join(' ')).toContain('--ro-bind /etc/resolv.conf /etc/resolv.conf');
  });
});
