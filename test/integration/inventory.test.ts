/** The per-app inventory on the real API server: large apps fit, and a no-op write is skipped. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cluster/client.ts';
import { Discovery } from '../../src/cluster/discovery.ts';
import { readInventory, writeInventory } from '../../src/cluster/inventory.ts';
import { directReader } from '../../src/cluster/live.ts';
import type { ObjectId } from '../../src/manifests/index.ts';
import { createNamespace, kubeconfig } from '../support/cluster.ts';

describe('inventory', () => {
  let client: KubeClient;
  let discovery: Discovery;
  let ns: { name: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    client = await KubeClient.create({ kubeconfig: kubeconfig() });
    discovery = new Discovery(client);
    ns = await createNamespace('inv');
  });
  afterAll(async () => {
    client.close();
    await ns.cleanup();
  });

  it('holds 12,000 objects (past the 1 MiB a plain JSON list would need) and writes nothing when unchanged', async () => {
    const entries: ObjectId[] = Array.from({ length: 12_000 }, (_, i) => ({
      group: i % 2 ? 'apps' : '',
      version: 'v1',
      kind: i % 2 ? 'Deployment' : 'ConfigMap',
      namespace: `team-${i % 40}-production-workloads`,
      name: `service-${i}-with-a-fairly-long-descriptive-name`,
    }));
    expect(JSON.stringify(entries).length).toBeGreaterThan(1 << 20);
    const conn = { discovery, live: directReader(client) };
    const inventory = { app: 'big', namespace: ns.name, commit: 'a'.repeat(40), entries };
    expect(await writeInventory(client, discovery, inventory, undefined)).toBe(true);
    const read = await readInventory(conn, 'big', ns.name);
    expect(read?.entries).toHaveLength(12_000);
    expect(new Set(read!.entries.map((e) => `${e.kind}/${e.namespace}/${e.name}`))).toEqual(
      new Set(entries.map((e) => `${e.kind}/${e.namespace}/${e.name}`)),
    );
    const patches = () => client.requestCounts().find((c) => c.verb === 'patch' && !c.dryRun)?.count ?? 0;
    const before = patches();
    // Same commit, same objects in another order: no write.
    expect(
      await writeInventory(client, discovery, { ...inventory, entries: [...entries].reverse() }, read),
    ).toBe(false);
    expect(patches()).toBe(before);
    // One object fewer: a write.
    expect(await writeInventory(client, discovery, { ...inventory, entries: entries.slice(1) }, read)).toBe(
      true,
    );
    expect((await readInventory(conn, 'big', ns.name))?.entries).toHaveLength(11_999);
  });
});
