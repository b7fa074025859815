import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ManifestErrors } from '../../../src/manifests/index.ts';
import type { SourceFile } from '../../../src/manifests/index.ts';

export const COMMIT = 'c0ffee1234567890abcdef1234567890abcdef12';
export const SHORT = 'c0ffee1';
export const FIXTURES = join(import.meta.dirname, '../../fixtures/manifests');

export function file(path: string, text: string | Uint8Array): SourceFile {
  return { path, content: typeof text === 'string' ? new TextEncoder().encode(text) : text };
}

/** A fixture file or directory as SourceFiles with paths relative to `root`. */
export function readFixture(root: string, name: string): SourceFile[] {
  const full = join(root, name);
  if (!statSync(full).isDirectory()) return [{ path: name, content: readFileSync(full) }];
  return readdirSync(full)
    .sort()
    .flatMap((child) => readFixture(root, `${name}/${child}`));
}

/** Runs `fn`, which must throw ManifestErrors, and returns them. */
export function errorsOf(fn: () => unknown): ManifestErrors {
  try {
    fn();
  } catch (e) {
    if (e instanceof ManifestErrors) return e;
    throw e;
  }
  throw new Error('expected ManifestErrors, but nothing was thrown');
}

export async function errorsOfAsync(fn: () => Promise<unknown>): Promise<ManifestErrors> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ManifestErrors) return e;
    throw e;
  }
  throw new Error('expected ManifestErrors, but nothing was thrown');
}
