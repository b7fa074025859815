/** The stamp that decides whether bin/tether.js may run dist/ instead of src/. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceStamp } from '../../../tools/source-stamp.js';

const root = mkdtempSync(join(tmpdir(), 'tether-stamp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('sourceStamp', () => {
  it('changes when a source file is edited, added or removed, and not for other files', () => {
    const src = join(root, 'src');
    mkdirSync(join(src, 'cli'), { recursive: true });
    const old = new Date('2026-01-01T00:00:00Z');
    for (const f of ['a.ts', 'cli/main.ts']) {
      writeFileSync(join(src, f), 'export {};\n');
      utimesSync(join(src, f), old, old);
    }
    const built = sourceStamp(src);
    expect(built).toBe(`2:${old.getTime()}`);

    writeFileSync(join(src, 'notes.md'), 'not a source file\n');
    expect(sourceStamp(src)).toBe(built);

    const edited = new Date('2026-02-01T00:00:00Z');
    utimesSync(join(src, 'cli/main.ts'), edited, edited);
    expect(sourceStamp(src)).toBe(`2:${edited.getTime()}`);

    writeFileSync(join(src, 'b.ts'), 'export {};\n');
    utimesSync(join(src, 'b.ts'), old, old);
    expect(sourceStamp(src)).toBe(`3:${edited.getTime()}`);

    rmSync(join(src, 'b.ts'));
    rmSync(join(src, 'a.ts'));
    expect(sourceStamp(src)).toBe(`1:${edited.getTime()}`);
  });
});
