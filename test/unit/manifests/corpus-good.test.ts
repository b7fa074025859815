import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../../src/manifests/index.ts';
import { COMMIT, FIXTURES, file, readFixture } from './helpers.ts';

const GOOD = join(FIXTURES, 'good');
const inputs = readdirSync(GOOD)
  .filter((name) => /\.(ya?ml|json)$/.test(name) && !name.endsWith('.expected.json'))
  .sort();

describe('good corpus: exact parsed JSON, as Kubernetes reads it', () => {
  for (const input of inputs) {
    it(input, () => {
      const expected: unknown = JSON.parse(
        readFileSync(join(GOOD, input.replace(/\.(ya?ml|json)$/, '.expected.json')), 'utf8'),
      );
      const objects = loadManifests(readFixture(GOOD, input), { commit: COMMIT }).map((m) => m.object);
      // Compare as JSON text too: what goes to the API server is the serialized form.
      expect(JSON.parse(JSON.stringify(objects))).toStrictEqual(expected);
      expect(objects).toEqual(expected);
    });
  }

  it('reads the whole corpus together, in path order', () => {
    const files = inputs.flatMap((input) => readFixture(GOOD, input));
    const manifests = loadManifests([...files].reverse(), { commit: COMMIT });
    const paths = manifests.map((m) => m.source.file);
    expect(paths).toEqual([...paths].sort());
    expect(manifests.length).toBeGreaterThan(10);
  });

  it('the README names every corpus file meant for the server comparison', () => {
    const readme = readFileSync(join(GOOD, 'README.md'), 'utf8');
    for (const input of inputs) expect(readme, input).toContain(input);
  });

  it('a ~500 KB ConfigMap', () => {
    const line = 'x'.repeat(99);
    const value = Array.from({ length: 5_000 }, (_, i) => `${String(i).padStart(5, '0')}${line}`).join('\n');
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  big.txt: |\n${value
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n  small: "1"\n`;
    expect(yaml.length).toBeGreaterThan(500_000);
    const [m] = loadManifests([file('big.yaml', yaml)], { commit: COMMIT });
    expect(m?.object).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big' },
      data: { 'big.txt': `${value}\n`, small: '1' },
    });
  });
});
