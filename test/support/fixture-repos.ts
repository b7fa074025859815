/** The realistic repository layouts of test/fixtures/repos, as files to commit. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './cluster.ts';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'repos');

/** A fixture's files; the CRD group made unique so that runs never share a cluster-scoped CRD. */
export function fixtureFiles(name: string, group: string): Record<string, string> {
  const root = join(FIXTURES, name);
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out[relative(root, full)] = readFileSync(full, 'utf8').replaceAll('fixtures.tether.dev', group);
    }
  };
  walk(root);
  return out;
}
