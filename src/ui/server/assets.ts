/**
 * The status page's files: index.html, written here, and the script and stylesheet bundled
 * from src/ui/web. An installed package and the image read them from dist/ui/assets (written
 * by `npm run build`); an agent started from the TypeScript sources bundles them in memory on
 * first use, so an edit of the page needs no build. Each file is kept gzipped as well.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { TetherError } from '../../errors.ts';
import { BUNDLE_FILES, bundleUi } from '../bundle.ts';

export class UiAssetsMissingError extends TetherError {}

export interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

const fromSources = import.meta.url.endsWith('.ts');

/** dist/ui/assets: beside the compiled server code (dist/ui/server), or in the clone's dist/. */
export const ASSETS_DIR = fromSources
  ? join(import.meta.dirname, '..', '..', '..', 'dist', 'ui', 'assets')
  : join(import.meta.dirname, '..', 'assets');

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="9" cy="16" r="6" fill="#2f6fdf"/><circle cx="23" cy="16" r="6" fill="none" stroke="#2f6fdf" stroke-width="3"/><path d="M15 16h3" stroke="#2f6fdf" stroke-width="3"/></svg>`;

function asset(body: string | Buffer, type: string): Asset {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const etag = `"${createHash('sha256').update(buf).digest('base64url').slice(0, 22)}"`;
  return { body: buf, gzip: gzipSync(buf, { level: 9 }), type, etag };
}

function indexHtml(js: Asset, css: Asset): string {
  const v = (a: Asset) => encodeURIComponent(a.etag.slice(1, 9));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Tether</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css?v=${v(css)}">
<script type="module" src="/assets/app.js?v=${v(js)}"></script>
</head>
<body>
<noscript><p>The Tether status page needs JavaScript. The same data is at <a href="/status">/status</a> and <a href="/audit">/audit</a>.</p></noscript>
<div id="root"></div>
</body>
</html>
`;
}

/** The page's files by URL path. */
export type Assets = ReadonlyMap<string, Asset>;

export function assetsOf(bundle: { js: string | Buffer; css: string | Buffer }): Assets {
  const js = asset(bundle.js, 'text/javascript; charset=utf-8');
  const css = asset(bundle.css, 'text/css; charset=utf-8');
  return new Map([
    ['/', asset(indexHtml(js, css), 'text/html; charset=utf-8')],
    ['/assets/app.js', js],
    ['/assets/app.css', css],
    ['/assets/icon.svg', asset(ICON, 'image/svg+xml')],
  ]);
}

/** Reads (or, running from the sources, bundles) the page's files. */
export async function loadAssets(): Promise<Assets> {
  if (fromSources) {
    try {
      return assetsOf(await bundleUi());
    } catch (e) {
      // No esbuild (production dependencies only): a build made earlier will do.
      if (!existsSync(join(ASSETS_DIR, BUNDLE_FILES.js))) throw missing(e);
    }
  }
  try {
    return assetsOf({
      js: readFileSync(join(ASSETS_DIR, BUNDLE_FILES.js)),
      css: readFileSync(join(ASSETS_DIR, BUNDLE_FILES.css)),
    });
  } catch (e) {
    throw missing(e);
  }
}

function missing(cause: unknown): UiAssetsMissingError {
  return new UiAssetsMissingError(`the status page's files are missing (${ASSETS_DIR})`, {
    hint: 'run npm run build (or npm ci) in the clone; an installed package ships them',
    cause,
  });
}
