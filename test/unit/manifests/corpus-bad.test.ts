import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../../src/manifests/index.ts';
import type { LoadOptions } from '../../../src/manifests/index.ts';
import { COMMIT, FIXTURES, SHORT, errorsOf, readFixture } from './helpers.ts';

const BAD = join(FIXTURES, 'bad');
const cases = readdirSync(BAD)
  .filter((name) => !/\.(expected\.txt|options\.json)$/.test(name))
  .sort()
  .map((input) => ({ input, name: input.replace(/\.(ya?ml|json)$/, '') }));

describe('bad corpus: every input gives exactly its expected errors', () => {
  it('has at least 30 cases, each with an expected file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const { name } of cases) expect(existsSync(join(BAD, `${name}.expected.txt`)), name).toBe(true);
  });

  for (const { input, name } of cases) {
    it(name, () => {
      const expected = readFileSync(join(BAD, `${name}.expected.txt`), 'utf8')
        .trimEnd()
        .split('\n');
      const optionsFile = join(BAD, `${name}.options.json`);
      const options = existsSync(optionsFile)
        ? (JSON.parse(readFileSync(optionsFile, 'utf8')) as Partial<LoadOptions>)
        : {};
      const err = errorsOf(() => loadManifests(readFixture(BAD, input), { commit: COMMIT, ...options }));
      expect(err.errors.map((e) => e.message)).toEqual(expected);
      for (const e of err.errors) {
        expect(e.message).toMatch(
          new RegExp(`^${input.replace(/[.]/g, '\\.')}[^:]*:\\d+:\\d+ \\(commit ${SHORT}\\): `),
        );
        expect(e.hint, `${e.message} has a hint`).toBeTruthy();
      }
      // The aggregate lists each error on its own line.
      const lines = err.message.split('\n');
      expect(lines).toHaveLength(expected.length + 1);
      expected.forEach((line, i) => expect(lines[i + 1]?.startsWith(line)).toBe(true));
    });
  }
});
