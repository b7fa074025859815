/**
 * The audit log's head anchored in the cluster, where the log's writer cannot quietly
 * rewrite it along with the file: an annotation `audit.tether.dev/<chain>: "<seq>:<hash>"`
 * on each app's inventory ConfigMap, written (by its own field manager) after every record
 * of that app. `<chain>` names the log: the first 16 hex of its first record's hash, so
 * several logs (the agent's, a CI job's) anchor side by side. `tether audit verify` reads them
 * back: a deleted tail, a rewritten record or a recomputed chain no longer matches.
 */
import { INVENTORY_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../contract.ts';
import { applyObject, type KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { Discovery } from './discovery.ts';
import { inventoryName } from './inventory.ts';

export const ANCHOR_PREFIX = 'audit.tether.dev/';
const ANCHOR_MANAGER = 'tether-audit';

export interface Anchor {
  seq: number;
  hash: string;
  /** Where it was found: `namespace/name` of the ConfigMap. */
  source: string;
}

export function chainIdOf(firstHash: string): string {
  return firstHash.slice(0, 16);
}

export async function writeAnchor(
  client: KubeClient,
  discovery: Discovery,
  target: { app: string; namespace: string; chain: string; seq: number; hash: string },
): Promise<void> {
  const info = (await discovery.lookup('', 'v1', 'ConfigMap'))!;
  await applyObject(
    client,
    info,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: inventoryName(target.app),
        namespace: target.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [INVENTORY_LABEL]: target.app },
        annotations: { [`${ANCHOR_PREFIX}${target.chain}`]: `${target.seq}:${target.hash}` },
      },
    },
    { fieldManager: ANCHOR_MANAGER, force: true },
  );
}

/** Every anchor of the chain in the cluster (all namespaces the identity may list). */
export async function readAnchors(client: KubeClient, chain: string): Promise<Anchor[]> {
  const list = await client.request<{ items: KubeObject[] }>({
    method: 'GET',
    path: '/api/v1/configmaps',
    query: { labelSelector: INVENTORY_LABEL },
  });
  const out: Anchor[] = [];
  for (const cm of list.items) {
    const value = (cm.metadata.annotations as Record<string, string> | undefined)?.[
      `${ANCHOR_PREFIX}${chain}`
    ];
    const m = value ? /^(\d+):([0-9a-f]{64})$/.exec(value) : null;
    if (m)
      out.push({ seq: Number(m[1]), hash: m[2]!, source: `${cm.metadata.namespace}/${cm.metadata.name}` });
  }
  return out.sort((a, b) => a.seq - b.seq);
}
