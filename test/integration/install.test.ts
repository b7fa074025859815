/**
 * Installing Tether as a user would, without a clone: `npm pack`, then `npm install -g` of the
 * tarball into an empty prefix, then `tether` from another empty directory with only Node on
 * PATH. One install per run (it fetches the dependencies, from npm's cache where it can).
 * Also `tether version`, `--version` and bare `tether` run from the clone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeconfig, repoRoot, tether } from '../support/cluster.ts';

// The project's Node 24 (the `node` devDependency) runs npm and the installed tether.
const node = realpathSync(join(repoRoot, 'node_modules', '.bin', 'node'));
const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
const tmp = mkdtempSync(join(tmpdir(), 'tether-install-'));
const prefix = join(tmp, 'prefix');
const elsewhere = join(tmp, 'elsewhere');
const onlyNode = { PATH: dirname(node), HOME: tmp, NO_COLOR: '1' };

function npm(args: string[], cwd: string): string {
  const r = spawnSync(node, [npmCli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

function installed(args: string[], env: Record<string, string> = {}) {
  return spawnSync(join(prefix, 'bin', 'tether'), args, {
    cwd: elsewhere,
    encoding: 'utf8',
    env: { ...onlyNode, ...env },
  });
}

describe('npm install -g of the packed tarball', () => {
  beforeAll(() => {
    execFileSync('mkdir', ['-p', prefix, elsewhere]);
    // `npm pack` builds dist/ first (the prepare script).
    const tarball = npm(['pack', '--pack-destination', tmp, '--silent'], repoRoot).trim().split('\n').pop()!;
    npm(
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(tmp, tarball),
      ],
      elsewhere,
    );
  }, 300_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('gives a working tether with only Node on PATH, from any directory', () => {
    const help = installed(['--help']);
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: tether');

    const bare = installed([]);
    expect(bare.status).toBe(0);
    expect(bare.stdout).toContain('Usage: tether');

    const v = installed(['--version']);
    expect([v.status, v.stdout]).toEqual([0, 'v0.1.0\n']);
  });

  it('prints the client and the server version', () => {
    const v = installed(['version'], { KUBECONFIG: kubeconfig() });
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^Client Version: v0\.1\.0\nServer Version: v1\.\d+\.\d+/);
  });

  it('ships the App CRD: install-crds prints the chart file and applies it (server dry run)', () => {
    const printed = installed(['install-crds', '--print']);
    expect(printed.stderr).toBe('');
    expect(printed.stdout).toBe(
      readFileSync(join(repoRoot, 'charts', 'tether', 'crds', 'apps.tether.dev.yaml'), 'utf8'),
    );
    const dry = installed(['install-crds', '--dry-run'], { KUBECONFIG: kubeconfig() });
    expect(dry.stderr).toBe('');
    expect(dry.stdout).toMatch(
      /^customresourcedefinition\.apiextensions\.k8s\.io\/apps\.tether\.dev (created|configured|unchanged) \(server dry run\)\n$/,
    );
  });

  it('ships compiled JavaScript only: no src/, no test/, no devDependencies', () => {
    const pkg = join(prefix, 'lib', 'node_modules', 'tether');
    const top = readdirSync(pkg).sort();
    expect(top).not.toContain('src');
    expect(top).not.toContain('test');
    expect(existsSync(join(pkg, 'dist', 'cli', 'main.js'))).toBe(true);
    // The status page, bundled at build time: its libraries and bundler are not installed.
    expect(existsSync(join(pkg, 'dist', 'ui', 'assets', 'app.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'ui', 'assets', 'app.css'))).toBe(true);
    for (const dev of ['node', 'typescript', 'vitest', 'esbuild', 'preact', 'playwright-core'])
      expect(existsSync(join(pkg, 'node_modules', dev))).toBe(false);
  });
});

describe('tether version (from the clone)', () => {
  it("prints the client's version and the test cluster's", async () => {
    const r = await tether(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Client Version: v0\.1\.0\nServer Version: v1\.\d+\.\d+\S*\n$/);

    const json = await tether(['version', '-o', 'json']);
    const parsed = JSON.parse(json.stdout) as {
      clientVersion: { gitVersion: string };
      serverVersion?: unknown;
    };
    expect(parsed.clientVersion.gitVersion).toBe('v0.1.0');
    expect(parsed.serverVersion).toBeDefined();
  });

  it('--client and an unreachable cluster print the client version only, with exit 0', async () => {
    const client = await tether(['version', '--client']);
    expect([client.code, client.stdout, client.stderr]).toEqual([0, 'Client Version: v0.1.0\n', '']);

    const dir = mkdtempSync(join(tmpdir(), 'tether-version-'));
    const none = await tether(['version', '-o', 'yaml'], { KUBECONFIG: join(dir, 'missing') });
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('clientVersion:\n  gitVersion: v0.1.0\n');
    expect(none.stderr).toContain('Server Version: unavailable');
  });

  it('--version prints the client version, and no arguments print help with exit 0', async () => {
    expect(await tether(['--version'])).toMatchObject({ code: 0, stdout: 'v0.1.0\n' });
    const bare = await tether([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('Usage: tether');
  });

  it('shows the XDG state directory as the audit log default', async () => {
    const r = await tether(['sync', '--help'], { XDG_STATE_HOME: '/var/tmp/xdg-state' });
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('/var/tmp/xdg-state/tether/audit.jsonl');
  });
});
