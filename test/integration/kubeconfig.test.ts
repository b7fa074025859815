/**
 * The kubeconfig loader's authenticators against the real kube-apiserver: a ServiceAccount
 * token handed over by an exec plugin and by a token-file must make the API server see that
 * ServiceAccount, and a wrong token must come back as a 401.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cluster/client.ts';
import { ApiStatusError } from '../../src/cluster/errors.ts';
import { createNamespace, kubectl } from '../support/cluster.ts';

interface SelfSubjectReview {
  status: { userInfo: { username: string; groups?: string[] } };
}

interface RawConfig {
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
}

const SA = 'tether-kubeconfig';

describe('kubeconfig authentication against the API server', () => {
  let ns: { name: string; cleanup: () => Promise<void> };
  let dir: string;
  let token: string;
  let server: string;
  let caData: string;
  const clients: KubeClient[] = [];

  beforeAll(async () => {
    ns = await createNamespace('kcfg');
    await kubectl(['create', 'serviceaccount', SA, '-n', ns.name]);
    token = (await kubectl(['create', 'token', SA, '-n', ns.name, '--duration=10m'])).trim();
    const raw = JSON.parse(
      await kubectl(['config', 'view', '--raw', '--flatten', '--minify', '-o', 'json']),
    ) as RawConfig;
    const cluster = raw.clusters[0]!.cluster;
    server = cluster.server;
    caData = cluster['certificate-authority-data'];
    dir = mkdtempSync(join(tmpdir(), 'tether-kubeconfig-it-'));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await ns?.cleanup();
  });

  /** A kubeconfig in `dir` for the test cluster whose one user is `user`. */
  function kubeconfigFor(name: string, user: Record<string, unknown>): string {
    const file = join(dir, name);
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': caData } }],
        users: [{ name: 'sa', user }],
        contexts: [{ name: 'sa', context: { cluster: 'local', user: 'sa', namespace: ns.name } }],
        'current-context': 'sa',
      }),
    );
    return file;
  }

  async function whoami(file: string): Promise<string> {
    const client = await KubeClient.create({ kubeconfig: file });
    clients.push(client);
    const review = await client.request<SelfSubjectReview>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    return review.status.userInfo.username;
  }

  it('authenticates as the ServiceAccount through an exec plugin', async () => {
    const plugin = join(dir, 'plugin.sh');
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token },
    });
    writeFileSync(plugin, `#!/bin/sh\ncat <<'EOF'\n${credential}\nEOF\n`);
    chmodSync(plugin, 0o755);
    const file = kubeconfigFor('exec.yaml', {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: './plugin.sh',
        interactiveMode: 'Never',
      },
    });
    expect(await whoami(file)).toBe(`system:serviceaccount:${ns.name}:${SA}`);
  });

  it('authenticates as the ServiceAccount through a token-file relative to the kubeconfig', async () => {
    writeFileSync(join(dir, 'token'), token);
    const file = kubeconfigFor('token-file.yaml', { 'token-file': 'token' });
    expect(await whoami(file)).toBe(`system:serviceaccount:${ns.name}:${SA}`);
  });

  it('authenticates through a token-file that ends with a newline (echo "$TOKEN" > token)', async () => {
    // client-go trims the file's content, so kubectl accepts this file.
    writeFileSync(join(dir, 'token-newline'), token + '\n');
    const file = kubeconfigFor('token-file-newline.yaml', { 'token-file': 'token-newline' });
    expect(await whoami(file)).toBe(`system:serviceaccount:${ns.name}:${SA}`);
  });

  it('gets a 401 ApiStatusError for a wrong token', async () => {
    const file = kubeconfigFor('wrong.yaml', { token: 'not-a-valid-token' });
    const err = await whoami(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiStatusError);
    expect((err as ApiStatusError).status).toBe(401);
    expect((err as ApiStatusError).message).toContain(
      'POST /apis/authentication.k8s.io/v1/selfsubjectreviews',
    );
    expect((err as ApiStatusError).hint).toContain('credentials in the kubeconfig were refused');
  });
});
