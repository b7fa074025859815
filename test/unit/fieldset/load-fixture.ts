import { readFileSync } from 'node:fs';

/** A fixture from test/fixtures/managedfields (a fresh copy on every call). */
export function fixture(name: string): Record<string, unknown> {
  const url = new URL(`../../fixtures/managedfields/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
}
