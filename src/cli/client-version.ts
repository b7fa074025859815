/** The client's version, from the package's own package.json (read once, no other import). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function clientVersion(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return `v${pkg.version}`;
}
