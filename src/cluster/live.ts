/**
 * Where live objects come from: straight from the API server (the CLI: one GET each), or
 * from a watch-backed cache (the agent: no request at all for an unchanged object).
 */
import type { KubeObject } from './apply.ts';
import type { KubeClient } from './client.ts';
import type { ResourceInfo } from './discovery.ts';
import { getObject } from './get.ts';

export interface LiveReader {
  get(info: ResourceInfo, namespace: string, name: string): Promise<KubeObject | undefined>;
}

export function directReader(client: KubeClient): LiveReader {
  return { get: (info, namespace, name) => getObject(client, info, namespace, name) };
}
