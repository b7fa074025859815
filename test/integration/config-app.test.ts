/**
 * `tether sync|diff|drift --config FILE --app NAME` runs the config's app exactly as the
 * agent would: its source and credentials, destination and allowed namespaces, ignore rules
 * and prune setting, with flags given as well overriding it. Run from another directory,
 * against the real API server and a git server that requires Basic auth.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitServer, type Repo } from '../support/git-server.ts';
import { createNamespace, kubectl, kubectlJson, tether } from '../support/cluster.ts';
import { configMap, deployment, toYaml } from '../support/objects.ts';

const auth = { username: 'bot', password: 's3cret-pw' };

describe('tether sync|diff|drift --config --app', () => {
  let git: GitServer;
  let repo: Repo;
  let ns: { name: string; cleanup: () => Promise<void> };
  let other: { name: string; cleanup: () => Promise<void> };
  /** Holds tether.yaml and the password file the config names relatively. */
  let confDir: string;
  /** Where the commands run: neither the repository nor the config's directory. */
  let workDir: string;
  let auditLog: string;

  const writeConfig = (shopExtra = '') =>
    writeFileSync(
      join(confDir, 'tether.yaml'),
      `auditLog: audit/agent.jsonl
apps:
  - name: shop
    source:
      repo: ${git.url('deploy')}
      ref: main
      path: apps/shop
      usernameFile: creds/username
      passwordFile: creds/password
    destination:
      namespace: ${ns.name}
      allowedNamespaces: [${ns.name}]
    sync:
      prune: true
      ignore:
        - paths: [.spec.replicas]
${shopExtra}  - name: billing
    source:
      repo: ${git.url('deploy')}
      path: apps/billing
      usernameFile: creds/username
      passwordFile: creds/password
    destination: {namespace: ${other.name}}
    sync: {mode: report}
`,
    );

  // diff writes nothing, so it keeps no audit log.
  const run = (args: string[]) =>
    tether(args[0] === 'diff' ? args : [...args, '--audit-log', auditLog], {}, workDir);

  beforeAll(async () => {
    git = await GitServer.start({ auth });
    repo = git.createRepo('deploy');
    ns = await createNamespace('cfg');
    other = await createNamespace('cfg-other');
    confDir = mkdtempSync(join(tmpdir(), 'tether-conf-'));
    workDir = mkdtempSync(join(tmpdir(), 'tether-cwd-'));
    auditLog = join(workDir, 'audit.jsonl');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(confDir, 'creds'));
    writeFileSync(join(confDir, 'creds/username'), `${auth.username}\n`);
    writeFileSync(join(confDir, 'creds/password'), `${auth.password}\n`);
    writeConfig();
    repo.commit({
      'apps/shop/web.yaml': toYaml(deployment({ name: 'web', replicas: 2 })),
      'apps/shop/settings.yaml': toYaml(configMap({ name: 'settings', data: { mode: 'blue' } })),
      'apps/shop/extra.yaml': toYaml(configMap({ name: 'extra', data: { a: '1' } })),
      'apps/billing/cm.yaml': toYaml(configMap({ name: 'billing', data: { b: '2' } })),
    });
  });
  afterAll(async () => {
    repo.dispose();
    await git.close();
    await ns.cleanup();
    await other.cleanup();
    rmSync(confDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  const config = () => join(confDir, 'tether.yaml');

  it('syncs the chosen app into its destination with its credentials, from another directory', async () => {
    const r = await run(['sync', '--config', config(), '--app', 'shop']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`created\\s+apps/v1 Deployment ${ns.name}/web`));
    const web = await kubectlJson<{ metadata: { labels: Record<string, string> } }>([
      '-n',
      ns.name,
      'get',
      'deployment',
      'web',
    ]);
    expect(web.metadata.labels['tether.dev/app']).toBe('shop');
    // The password file's content never reaches the output or the audit log.
    expect(r.stdout + r.stderr + readFileSync(auditLog, 'utf8')).not.toContain(auth.password);
    expect(readFileSync(auditLog, 'utf8')).toContain('"app":"shop"');
  });

  it("applies the config's ignore rules: a scaled replica count is not drift for the app, but is with flags alone", async () => {
    await kubectl(['-n', ns.name, 'scale', 'deployment', 'web', '--replicas=5']);
    const withConfig = await run(['drift', '--config', config(), '--app', 'shop', '-o', 'json']);
    expect(withConfig.stderr).toBe('');
    expect(withConfig.code).toBe(0);
    const flagsOnly = await run([
      'drift',
      '--repo',
      git.url('deploy', auth),
      '--path',
      'apps/shop',
      '-n',
      ns.name,
      '--app',
      'shop',
      '-o',
      'json',
    ]);
    expect(flagsOnly.code).toBe(1);
    const objects = (
      JSON.parse(flagsOnly.stdout) as { objects: { name: string; fields: { path: string }[] }[] }
    ).objects;
    expect(objects.find((o) => o.name === 'web')!.fields.map((f) => f.path)).toEqual(['.spec.replicas']);
    // And sync with the config leaves the autoscaled value alone.
    expect((await run(['sync', '--config', config(), '--app', 'shop'])).code).toBe(0);
    const web = await kubectlJson<{ spec: { replicas: number } }>([
      '-n',
      ns.name,
      'get',
      'deployment',
      'web',
    ]);
    expect(web.spec.replicas).toBe(5);
  });

  it('lets flags override the config: --ref for a diff, --no-prune against the config prune', async () => {
    repo.git(['checkout', '-q', '-b', 'feature']);
    repo.git(['rm', '-q', 'apps/shop/extra.yaml']);
    repo.git(['commit', '-q', '-m', 'drop extra']);
    repo.git(['push', '-q', 'origin', 'feature']);
    repo.git(['checkout', '-q', 'main']);

    const diff = await run(['diff', '--config', config(), '--app', 'shop', '--ref', 'feature', '-o', 'json']);
    expect(diff.stderr).toBe('');
    expect(diff.code).toBe(1);
    const actions = (JSON.parse(diff.stdout) as { objects: { name: string; action: string }[] }).objects;
    // The config prunes, so the removed ConfigMap shows as a deletion.
    expect(actions.find((o) => o.name === 'extra')!.action).toBe('delete');

    const kept = await run(['sync', '--config', config(), '--app', 'shop', '--ref', 'feature', '--no-prune']);
    expect(kept.code).toBe(0);
    await kubectl(['-n', ns.name, 'get', 'configmap', 'extra']);

    const pruned = await run(['sync', '--config', config(), '--app', 'shop', '--ref', 'feature']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toMatch(new RegExp(`pruned\\s+v1 ConfigMap ${ns.name}/extra`));
    expect(await kubectl(['-n', ns.name, 'get', 'configmap', '--ignore-not-found', 'extra'])).toBe('');
  });

  it("refuses an object outside the app's allowed namespaces, naming the file, and writes nothing", async () => {
    repo.commit({
      'apps/shop/stray.yaml': toYaml(configMap({ name: 'stray', namespace: other.name, data: { x: '1' } })),
    });
    const r = await run(['sync', '--config', config(), '--app', 'shop']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('apps/shop/stray.yaml');
    expect(r.stderr).toContain(other.name);
    expect(await kubectl(['-n', other.name, 'get', 'configmap', '--ignore-not-found', 'stray'])).toBe('');
    repo.commit({ 'apps/shop/stray.yaml': null });
  });

  it('runs a report-mode app with drift, and refuses to sync it', async () => {
    const drift = await run(['drift', '--config', config(), '--app', 'billing']);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toMatch(new RegExp(`missing\\s+v1 ConfigMap ${other.name}/billing`));
    const sync = await run(['sync', '--config', config(), '--app', 'billing']);
    expect(sync.code).toBe(2);
    expect(sync.stderr).toMatch(/app billing is in report mode/);
    expect(await kubectl(['-n', other.name, 'get', 'configmap', '--ignore-not-found', 'billing'])).toBe('');
  });

  it('names the apps when --app is missing or unknown', async () => {
    const missing = await run(['drift', '--config', config()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/defines 2 apps \(shop, billing\)/);
    const unknown = await run(['drift', '--config', config(), '--app', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no app named "nope"; its apps: shop, billing/);
    const bad = await run(['sync', '--config', config(), '--app', 'shop', '-n', 'Not_A_Namespace']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--namespace: "Not_A_Namespace" is not a valid name/);
  });
});
