/**
 * The secret errors corpus (test/fixtures/secret-errors): whatever way a case fails, its
 * canary Secret value (and the canary's base64) appears in no error message, detail, hint or
 * stack, and for the cases the API server refuses, the commit's masker hides every quote of
 * the manifests that holds the canary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestErrors, loadManifests } from '../../../src/manifests/index.ts';
import type { Manifest, SourceFile } from '../../../src/manifests/index.ts';
import { secretMasker } from '../../../src/manifests/secret-masking.ts';
import { loadManifestsWithRenderers } from '../../../src/render/index.ts';
import { COMMIT, file, readFixture } from '../manifests/helpers.ts';

const CORPUS = join(import.meta.dirname, '../../fixtures/secret-errors');
const cases = Object.entries(
  JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as Record<string, 'load' | 'server'>,
);

function canaryOf(files: SourceFile[]): string {
  for (const f of files) {
    const m = /S3CR3T-CANARY-\d+/.exec(Buffer.from(f.content).toString('utf8'));
    if (m) return m[0];
  }
  throw new Error('no canary in the case');
}

/** Every text an error carries: message, stack, hint, and those of the errors it lists. */
function textsOf(e: ManifestErrors): string[] {
  return [
    e.message,
    e.stack ?? '',
    e.hint ?? '',
    ...e.errors.flatMap((m) => [m.message, m.detail, m.hint ?? '', m.stack ?? '']),
  ];
}

/** Every key and string value in the objects. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  return [];
}

describe('secret errors corpus', () => {
  it('has the cases of issue 15, each with one canary', () => {
    expect(cases.length).toBeGreaterThanOrEqual(9);
    for (const [name] of cases) expect(canaryOf(readFixture(CORPUS, name))).toMatch(/^S3CR3T-CANARY-\d+$/);
  });

  for (const [name, fails] of cases) {
    it(`${name}: the canary appears in no error (${fails})`, async () => {
      const files = readFixture(CORPUS, name);
      const canary = canaryOf(files);
      const encoded = Buffer.from(canary).toString('base64');
      let manifests: Manifest[] | undefined;
      let error: unknown;
      try {
        manifests = await loadManifestsWithRenderers(files, { commit: COMMIT, basePath: name });
      } catch (e) {
        error = e;
      }
      if (fails === 'load') {
        expect(error).toBeInstanceOf(ManifestErrors);
        const texts = textsOf(error as ManifestErrors);
        // Still a useful error: it names the file.
        expect(texts[0]).toContain(`${name}/`);
        for (const text of texts) {
          expect(text).not.toContain(canary);
          expect(text).not.toContain(encoded);
        }
        return;
      }
      expect(error).toBeUndefined();
      // The API server quotes keys and values as they are, or in Go's %q: the masker hides both.
      const mask = secretMasker(files, manifests);
      const quoted = stringsOf(manifests!.map((m) => m.object)).filter(
        (s) => s.includes(canary) || s.includes(encoded),
      );
      expect(quoted.length, 'the manifests hold the canary').toBeGreaterThan(0);
      for (const s of quoted) {
        const message = `${name}: data[${s}]: Invalid value: ${JSON.stringify(s)}: refused`;
        expect(mask(message)).not.toContain(canary);
        expect(mask(message)).not.toContain(encoded);
        expect(mask(message)).toContain(`${name}: data[`);
      }
    });
  }

  it('masks plain loadManifests errors too', () => {
    const files = readFixture(CORPUS, 'stringdata-alias');
    expect(() => loadManifests(files, { commit: COMMIT })).toThrow(ManifestErrors);
    try {
      loadManifests(files, { commit: COMMIT });
    } catch (e) {
      expect(textsOf(e as ManifestErrors).join('\n')).not.toContain('S3CR3T-CANARY-2');
    }
  });
});

describe('file names in errors', () => {
  it('are printed escaped: terminal escapes and newlines cannot clear the screen or forge lines', () => {
    const name = 'apps/evil\u001b[2J\nerror: forged\r\u009b31m.yaml';
    let error: ManifestErrors | undefined;
    try {
      loadManifests([file(name, 'a: [unclosed\n')], { commit: COMMIT });
    } catch (e) {
      error = e as ManifestErrors;
    }
    expect(error).toBeInstanceOf(ManifestErrors);
    const line = error!.errors[0]!.message;
    expect(line).toMatch(
      /^apps\/evil\\u001b\[2J\\nerror: forged\\r\\u009b31m\.yaml:2:1 \(commit c0ffee1\): /,
    );
    // eslint-disable-next-line no-control-regex -- matching them is the point
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    // The aggregate has one line per error, and no line of it starts like a forged error.
    expect(error!.message.split('\n')).toHaveLength(2);
    expect(error!.message).not.toMatch(/^error: forged/m);
    // The location itself keeps the real name.
    expect(error!.errors[0]!.location.file).toBe(name);
  });

  it('escapes a directory name that reaches a render error', async () => {
    const dir = 'app\u001b[2J\nerror: forged';
    const files = [file(`${dir}/kustomization.yaml`, 'resources: [missing.yaml]\n')];
    try {
      await loadManifestsWithRenderers(files, { commit: COMMIT, basePath: dir });
      expect.unreachable();
    } catch (e) {
      const message = (e as Error).message;
      expect(message).toContain('app\\u001b[2J\\nerror: forged/kustomization.yaml:1:1');
      // eslint-disable-next-line no-control-regex -- matching them is the point
      expect(message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(message).not.toMatch(/^error: forged/m);
    }
  });
});
