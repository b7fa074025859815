/**
 * The inventory of an app: which objects Tether applied for it, kept in the cluster as a
 * ConfigMap in the app's namespace and written only after a successful apply. Prune deletes
 * what is in the inventory and no longer in Git, so nothing Tether never applied is deleted.
 */
import type { ObjectId } from '../manifests/index.ts';
import { applyObject, type KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { Discovery } from './discovery.ts';
import type { LiveReader } from './live.ts';

export const INVENTORY_LABEL = 'tether.dev/inventory';

export interface Inventory {
  app: string;
  namespace: string;
  commit?: string;
  entries: ObjectId[];
}

export function inventoryName(app: string): string {
  return `tether-inventory-${app.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/, '');
}

function sortEntries(entries: ObjectId[]): ObjectId[] {
  const key = (e: ObjectId) => [e.group, e.kind, e.namespace, e.name].join('\u0000');
  const seen = new Map(entries.map((e) => [key(e), e]));
  return [...seen.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export async function readInventory(
  conn: { discovery: Discovery; live: LiveReader },
  app: string,
  namespace: string,
): Promise<Inventory | undefined> {
  const info = (await conn.discovery.lookup('', 'v1', 'ConfigMap'))!;
  const cm = await conn.live.get(info, namespace, inventoryName(app));
  if (!cm) return undefined;
  const data = (cm.data ?? {}) as Record<string, string>;
  const entries = JSON.parse(data.objects ?? '[]') as ObjectId[];
  return { app, namespace, ...(data.commit ? { commit: data.commit } : {}), entries };
}

/** Writes the inventory unless it is already exactly this (no write on a no-op reconcile). */
export async function writeInventory(
  client: KubeClient,
  discovery: Discovery,
  inventory: Inventory,
  previous: Inventory | undefined,
): Promise<boolean> {
  const entries = sortEntries(inventory.entries);
  if (
    previous &&
    previous.commit === inventory.commit &&
    JSON.stringify(sortEntries(previous.entries)) === JSON.stringify(entries)
  ) {
    return false;
  }
  const info = (await discovery.lookup('', 'v1', 'ConfigMap'))!;
  const cm: Partial<KubeObject> = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: inventoryName(inventory.app),
      namespace: inventory.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'tether', [INVENTORY_LABEL]: inventory.app },
    },
    data: { app: inventory.app, commit: inventory.commit ?? '', objects: JSON.stringify(entries) },
  };
  await applyObject(client, info, cm, { force: true });
  return true;
}
