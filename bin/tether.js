#!/usr/bin/env node
// Tether runs its TypeScript sources directly on Node 24 (type stripping). `npx tether` uses
// the project's own Node 24 (the `node` devDependency); an older node on PATH gets a clear hint.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `error: tether needs Node.js 24 or newer, but this is ${process.version}\n` +
      "hint: run it through npm so the project's Node 24 is used: npx tether ... (after npm ci)\n",
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

/** dist/ (npm run build) while it matches src/; otherwise the TypeScript itself. */
async function entry() {
  const { existsSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = join(import.meta.dirname, '..');
  const stampFile = join(root, 'dist', '.source-stamp');
  if (process.env.TETHER_FROM_SOURCE !== '1' && existsSync(stampFile)) {
    const { sourceStamp } = await import('../tools/source-stamp.js');
    const src = join(root, 'src');
    const built = readFileSync(stampFile, 'utf8').trim();
    if (!existsSync(src) || sourceStamp(src) === built) return '../dist/cli/main.js';
  }
  return '../src/cli/main.ts';
}
