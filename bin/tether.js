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
await import('../src/cli/main.ts');
