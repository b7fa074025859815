/**
 * The Secrets an App refers to (secretRef), written as private files for the pipeline, which
 * reads credentials from files (as a config file's app does). Each App gets a directory of
 * its own under the agent's private root (mode 0700, files 0600), removed when the App goes.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeClient } from '../cluster/client.ts';
import { ApiStatusError } from '../cluster/errors.ts';
import type { AppResource } from './resource.ts';
import { secretsOf, type SecretFileOf } from './to-config.ts';

export interface MaterializedSecrets {
  fileOf: SecretFileOf;
  /** Changes whenever a referenced Secret changes: part of the app's fingerprint. */
  versions: string;
}

export class SecretReadError extends Error {
  override name = 'SecretReadError';
}

interface SecretObject {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

/** A path segment that cannot climb out of its directory. */
const segment = (s: string) => encodeURIComponent(s).replace(/^\.+$/, (dots) => '%2E'.repeat(dots.length));

export class AppSecrets {
  private readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private dirOf(r: AppResource): string {
    return join(this.root, segment(r.metadata.namespace), segment(r.metadata.name));
  }

  /** Reads the App's Secrets and writes their keys; throws SecretReadError naming the Secret and what to check. */
  async materialize(client: KubeClient, r: AppResource): Promise<MaterializedSecrets> {
    const needs = secretsOf(r);
    const ns = r.metadata.namespace;
    const files = new Map<string, string>();
    const versions: string[] = [];
    // Written in place, never removed first: a running app may be reading them.
    const dir = this.dirOf(r);
    for (const name of new Set(needs.map((n) => n.secret))) {
      let secret: SecretObject;
      try {
        secret = await client.request<SecretObject>({
          method: 'GET',
          path: `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets/${encodeURIComponent(name)}`,
        });
      } catch (e) {
        if (e instanceof ApiStatusError && e.status === 404)
          throw new SecretReadError(
            `Secret ${ns}/${name} not found: create it in the App's namespace, or fix the secretRef`,
          );
        if (e instanceof ApiStatusError && e.status === 403)
          throw new SecretReadError(
            `the agent may not read Secret ${ns}/${name}: grant its ServiceAccount get on secrets (the chart's appResources RBAC does)`,
          );
        throw e;
      }
      versions.push(`${name}@${secret.metadata?.resourceVersion ?? ''}`);
      const secretDir = join(dir, segment(name));
      await mkdir(secretDir, { recursive: true, mode: 0o700 });
      for (const need of needs.filter((n) => n.secret === name)) {
        const value = secret.data?.[need.key];
        if (value === undefined) continue;
        const file = join(secretDir, segment(need.key));
        await writeFile(file, Buffer.from(value, 'base64'), { mode: 0o600 });
        files.set(`${name}\0${need.key}`, file);
      }
    }
    return { fileOf: (secret, key) => files.get(`${secret}\0${key}`), versions: versions.join(',') };
  }

  async remove(r: AppResource): Promise<void> {
    await rm(this.dirOf(r), { recursive: true, force: true });
  }
}
