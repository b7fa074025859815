import { escapeName } from '../util/escape.ts';
import type { ObjectId } from './types.ts';

/** Stable map key: 'group/kind/namespace/name' (the version is not part of an object's identity). */
export function objectKey(id: ObjectId): string {
  return `${id.group}/${id.kind}/${id.namespace}/${id.name}`;
}

/**
 * Human form: 'apps/v1 Deployment shop/web', 'v1 Namespace shop'. Escaped (see escapeName):
 * a custom resource's name may hold any character but '/' and '%'.
 */
export function formatId(id: ObjectId): string {
  const apiVersion = id.group === '' ? id.version : `${id.group}/${id.version}`;
  const name = id.namespace === '' ? id.name : `${id.namespace}/${id.name}`;
  return escapeName(`${apiVersion} ${id.kind} ${name}`);
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } | undefined {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] ?? '' };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return undefined;
}
