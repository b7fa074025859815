// The stamp of src/ that `npm run build` records in dist/ and bin/tether.js compares before
// it runs the compiled files: the count of source files (.ts, and the status page's .tsx and
// .css) and the newest modification time. An edit, an added or a removed file changes it, so a
// stale build is never run. Plain JavaScript: bin/tether.js loads it before anything is
// compiled or stripped.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function sourceStamp(dir) {
  let files = 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|tsx|css)$/.test(entry.name)) continue;
    files++;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return `${files}:${newest}`;
}
