/**
 * The status page's size contract: everything a first visit loads (index.html, the script,
 * the stylesheet and the icon), gzipped as the agent serves it, stays under 150 KB; and the
 * page refers to nothing but the agent that serves it.
 */
import { describe, expect, it } from 'vitest';
import { bundleUi } from '../../../src/ui/bundle.ts';
import { assetsOf } from '../../../src/ui/server/assets.ts';

describe('the status page', () => {
  it('weighs under 150 KB compressed, and loads nothing from elsewhere', { timeout: 60_000 }, async () => {
    const assets = assetsOf(await bundleUi());
    expect([...assets.keys()].sort()).toEqual(['/', '/assets/app.css', '/assets/app.js', '/assets/icon.svg']);
    const gzipped = [...assets.values()].reduce((n, a) => n + a.gzip.length, 0);
    console.log(
      `status page: ${(gzipped / 1024).toFixed(1)} KB gzipped (${[...assets].map(([p, a]) => `${p} ${a.gzip.length} B`).join(', ')})`,
    );
    expect(gzipped).toBeLessThan(150 * 1024);
    const html = assets.get('/')!.body.toString('utf8');
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^\/(?!\/)/);
    expect(assets.get('/assets/app.css')!.body.toString('utf8')).not.toMatch(/url\(|@import/);
  });
});
