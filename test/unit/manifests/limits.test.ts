import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitExceededError, loadManifests } from '../../../src/manifests/index.ts';
import { configMap, toYaml } from '../../support/objects.ts';
import { COMMIT, SHORT, errorsOf, file } from './helpers.ts';

/** `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: <name>\n`, four lines. */
const cm = (name: string) => toYaml(configMap({ name }));

describe('limits against hostile repositories', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxFileBytes: 4 * 1024 * 1024,
      maxTotalBytes: 64 * 1024 * 1024,
      maxDocumentsPerFile: 1000,
      maxObjects: 20000,
      maxAliases: 100,
      maxDepth: 100,
    });
  });

  it('refuses a file over the size limit (default 4 MiB) without parsing it', () => {
    const big = `${cm('big')}data:\n  x: "${'a'.repeat(4 * 1024 * 1024)}"\n`;
    const err = errorsOf(() =>
      loadManifests([file('big.yaml', big), file('ok.yaml', cm('ok'))], { commit: COMMIT }),
    );
    expect(err.errors.map((e) => e.message)).toEqual([
      `big.yaml:1:1 (commit ${SHORT}): the file is ${big.length} bytes, over the 4 MiB limit`,
    ]);
    expect(err.errors[0]).toBeInstanceOf(LimitExceededError);
  });

  it('refuses a commit over the total size limit', () => {
    const files = ['a', 'b', 'c'].map((n) => file(`${n}.yaml`, cm(n)));
    const size = files[0]?.content.byteLength ?? 0;
    expect(loadManifests(files, { commit: COMMIT, limits: { maxTotalBytes: 3 * size } })).toHaveLength(3);
    const err = errorsOf(() =>
      loadManifests(files, { commit: COMMIT, limits: { maxTotalBytes: 3 * size - 1 } }),
    );
    expect(err.errors.map((e) => e.message)).toEqual([
      `c.yaml:1:1 (commit ${SHORT}): the manifests of this commit exceed ${3 * size - 1} bytes in total`,
    ]);
  });

  it('counts documents per file, empty ones included (default 1,000)', () => {
    // Each '---' starts a document; the object is in the last one.
    const ok = `${'---\n'.repeat(1000)}${cm('last')}`;
    expect(loadManifests([file('d.yaml', ok)], { commit: COMMIT })).toHaveLength(1);
    const tooMany = `${'---\n'.repeat(1001)}${cm('last')}`;
    const err = errorsOf(() => loadManifests([file('d.yaml', tooMany)], { commit: COMMIT }));
    expect(err.errors.map((e) => e.message)).toEqual([
      `d.yaml:1001:1 (commit ${SHORT}): more than 1000 YAML documents in one file`,
    ]);
  });

  it('refuses more objects than the limit', () => {
    const text = Array.from({ length: 4 }, (_, i) => cm(`c${i}`)).join('---\n');
    expect(loadManifests([file('o.yaml', text)], { commit: COMMIT, limits: { maxObjects: 4 } })).toHaveLength(
      4,
    );
    const err = errorsOf(() =>
      loadManifests([file('o.yaml', text)], { commit: COMMIT, limits: { maxObjects: 3 } }),
    );
    expect(err.errors.map((e) => e.message)).toEqual([
      `o.yaml:16:1 (commit ${SHORT}): more than 3 objects in this commit`,
    ]);
  });

  it('allows 100 alias expansions per document and refuses the 101st', () => {
    const widget = (n: number) =>
      `apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: a\n  labels: &l {a: b}\nspec:\n${Array.from(
        { length: n },
        (_, i) => `  k${i}: {<<: *l}\n`,
      ).join('')}`;
    expect(loadManifests([file('a.yaml', widget(100))], { commit: COMMIT })).toHaveLength(1);
    const err = errorsOf(() => loadManifests([file('a.yaml', widget(101))], { commit: COMMIT }));
    expect(err.errors[0]?.message).toBe(
      `a.yaml:107:14 (commit ${SHORT}): more than 100 alias expansions in one document`,
    );
  });

  it('refuses billion laughs quickly', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++)
      levels.push(
        `l${i}: &l${i} [${Array(10)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(',')}]`,
      );
    const text = `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: lol}\nspec:\n${levels.map((l) => `  ${l}\n`).join('')}`;
    const started = performance.now();
    const err = errorsOf(() => loadManifests([file('lol.yaml', text)], { commit: COMMIT }));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(err.errors[0]).toBeInstanceOf(LimitExceededError);
  });

  it('allows nesting to depth 100 and refuses 101', () => {
    const nested = (depth: number) =>
      `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: deep}\nspec: ${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}\n`;
    expect(loadManifests([file('d.yaml', nested(100))], { commit: COMMIT })).toHaveLength(1);
    const err = errorsOf(() => loadManifests([file('d.yaml', nested(101))], { commit: COMMIT }));
    expect(err.errors[0]?.message).toBe(`d.yaml:4:106 (commit ${SHORT}): nesting deeper than 100 levels`);
  });

  it('survives nesting too deep for the YAML library itself (no crash, a clear error)', () => {
    const depth = 20_000;
    const text = `${cm('deep')}data: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
    const blockText = `${cm('deep')}data:\n  ${'- '.repeat(depth)}x\n`;
    for (const t of [text, blockText]) {
      const err = errorsOf(() => loadManifests([file('d.yaml', t)], { commit: COMMIT }));
      expect(err.errors).toHaveLength(1);
      expect(err.errors[0]).toBeInstanceOf(LimitExceededError);
    }
  });
});
