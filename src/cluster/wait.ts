import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from './client.ts';
import { TetherError } from '../errors.ts';
import type { ResourceInfo } from './discovery.ts';
import { getObject } from './get.ts';

export class WaitTimeoutError extends TetherError {}

interface Crd {
  status?: { conditions?: { type?: string; status?: string; message?: string }[] };
}

/** Waits until a CRD reports Established, so its custom resources can be served. */
export async function waitForCrdEstablished(
  client: KubeClient,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const crd = await client.request<Crd>({
      method: 'GET',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${encodeURIComponent(name)}`,
    });
    const conds = crd.status?.conditions ?? [];
    if (conds.some((c) => c.type === 'Established' && c.status === 'True')) return;
    last = conds.find((c) => c.type === 'NamesAccepted' && c.status === 'False')?.message ?? last;
    await sleep(100);
  }
  throw new WaitTimeoutError(
    `CustomResourceDefinition ${name} was not Established within ${timeoutMs / 1000}s${last ? `: ${last}` : ''}`,
    {
      hint: `inspect it with: kubectl get crd ${name} -o yaml`,
    },
  );
}

/** Waits until an object is gone (finalizers done), before it is created again. */
export async function waitForDeletion(
  client: KubeClient,
  info: ResourceInfo,
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await getObject(client, info, namespace, name))) return;
    await sleep(100);
  }
  throw new WaitTimeoutError(
    `${info.kind} ${namespace ? `${namespace}/` : ''}${name} was not deleted within ${timeoutMs / 1000}s`,
    {
      hint: 'a finalizer may be holding it: inspect metadata.finalizers with kubectl get -o yaml',
    },
  );
}
