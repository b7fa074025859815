#!/usr/bin/env node
// An installed tether (npm install -g, or from an `npm pack` tarball) runs the JavaScript
// compiled into dist/, on any Node the `engines` field of package.json allows. A clone runs
// dist/ while it matches src/ (npm ci and npm run build make it) and otherwise the TypeScript
// sources themselves, which needs Node 24's type stripping.
const MIN_NODE = [22, 19]; // package.json engines: commander 15 needs 22.12, undici 8 (client-node) 22.19
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  process.stderr.write(
    `error: tether needs Node.js ${MIN_NODE.join('.')} or newer, but this is ${process.version}\n` +
      "hint: install a current Node.js (24 LTS), or in a clone run it through npm so the project's Node 24 is used: npx tether ...\n",
  );
  process.exit(2);
}

// `tether agent` runs for months: it replaces itself (same pid, via execve) with a Node tuned
// for a small steady footprint. Without this, tracking 10,000 objects costs about 290 MB
// instead of 200: V8 keeps a young generation sized for throughput, and glibc keeps the
// freed memory of response buffers (its mmap threshold grows with them). --expose-gc lets
// the agent collect once after a burst of work (src/agent/compact.ts).
// TETHER_AGENT_NODE_FLAGS replaces the V8 flags; TETHER_AGENT_TUNING=off keeps Node's defaults.
const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
if (
  command === 'agent' &&
  process.env.TETHER_AGENT_TUNING !== 'off' &&
  process.env.TETHER_AGENT_TUNED !== '1' &&
  typeof process.execve === 'function'
) {
  const flags = (process.env.TETHER_AGENT_NODE_FLAGS ?? '--optimize-for-size --expose-gc')
    .split(' ')
    .filter(Boolean);
  process.execve(
    process.execPath,
    [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)],
    {
      ...process.env,
      TETHER_AGENT_TUNED: '1',
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '65536',
    },
  );
}
await import(await entry());

/** dist/ (npm run build) while it matches src/, or always when there is no src/ (installed). */
async function entry() {
  const { existsSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = join(import.meta.dirname, '..');
  const src = join(root, 'src');
  const stampFile = join(root, 'dist', '.source-stamp');
  if (process.env.TETHER_FROM_SOURCE !== '1' && existsSync(stampFile)) {
    if (!existsSync(src)) return '../dist/cli/main.js';
    const { sourceStamp } = await import('../tools/source-stamp.js');
    if (sourceStamp(src) === readFileSync(stampFile, 'utf8').trim()) return '../dist/cli/main.js';
  }
  if (!existsSync(src)) {
    process.stderr.write(
      `error: this tether installation has no compiled dist/ (${join(root, 'dist')})\n` +
        'hint: reinstall the package (npm install -g tether); a clone builds it with npm run build\n',
    );
    process.exit(2);
  }
  if (major < 24) {
    process.stderr.write(
      `error: dist/ is missing or older than src/, and running the TypeScript sources needs Node.js 24 (type stripping), but this is ${process.version}\n` +
        "hint: run npm run build (or npm ci) to compile dist/, or use the project's Node 24: npx tether ...\n",
    );
    process.exit(2);
  }
  return '../src/cli/main.ts';
}
