/**
 * Server-side apply of one object: a raw PATCH with content type
 * application/apply-patch+yaml (JSON is YAML), field manager `tether`, strict field
 * validation, optionally forced and optionally dry-run.
 */
import type { KubeClient } from './client.ts';
import { FIELD_MANAGER } from '../contract.ts';
import { resourcePath, type ResourceInfo } from './discovery.ts';

export interface ApplyOptions {
  dryRun?: boolean;
  force?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string; resourceVersion?: string };
};

export async function applyObject(
  client: KubeClient,
  info: ResourceInfo,
  object: Record<string, unknown>,
  options: ApplyOptions = {},
): Promise<KubeObject> {
  const meta = object.metadata as { name: string; namespace?: string };
  return client.request<KubeObject>({
    method: 'PATCH',
    path: resourcePath(info, meta.namespace ?? '', meta.name),
    query: {
      fieldManager: options.fieldManager ?? FIELD_MANAGER,
      fieldValidation: options.fieldValidation ?? 'Strict',
      force: options.force ? 'true' : undefined,
      dryRun: options.dryRun ? 'All' : undefined,
    },
    body: object,
    contentType: 'application/apply-patch+yaml',
  });
}
