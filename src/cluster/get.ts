import type { KubeClient } from './client.ts';
import { resourcePath, type ResourceInfo } from './discovery.ts';
import { ApiStatusError } from './errors.ts';
import type { KubeObject } from './apply.ts';

/** The live object, or undefined when it does not exist. */
export async function getObject(
  client: KubeClient,
  info: ResourceInfo,
  namespace: string,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await client.request<KubeObject>({ method: 'GET', path: resourcePath(info, namespace, name) });
  } catch (e) {
    if (e instanceof ApiStatusError && e.notFound) return undefined;
    throw e;
  }
}
