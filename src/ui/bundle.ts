/**
 * Bundles the status page's browser code (src/ui/web, TypeScript and preact) into one script
 * and one stylesheet with esbuild: at build time into dist/ui/assets (tools/build.ts), or in
 * memory when the agent runs from the TypeScript sources (a clone after an edit). Nothing is
 * fetched at run time: the page loads only what the agent serves.
 */
import { join } from 'node:path';

export interface UiBundle {
  js: string;
  css: string;
}

/** The files written into dist/ui/assets. */
export const BUNDLE_FILES = { js: 'app.js', css: 'app.css' } as const;

/** Where the browser code lives. */
export const WEB_DIR = join(import.meta.dirname, 'web');

/** Browsers the page is built for: evergreen ones since CSS light-dark() (2024). */
const TARGET = ['chrome123', 'firefox120', 'safari17.5', 'edge123'];

export async function bundleUi(): Promise<UiBundle> {
  // esbuild is a devDependency: an installed package ships the bundle and never gets here.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(WEB_DIR, 'main.tsx'), join(WEB_DIR, 'style.css')],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    target: TARGET,
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const out = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  return { js: out('.js'), css: out('.css') };
}
