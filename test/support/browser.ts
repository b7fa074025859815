/**
 * A real browser for the status page tests: Debian's chromium (installed by .ci/run) driven by
 * playwright-core, which brings no browser of its own. Every request each page makes is
 * recorded, so a test can check that none leaves loopback; screenshots go to
 * test-artifacts/ui/ (gitignored), kept as the run's artifacts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import { repoRoot } from './cluster.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(repoRoot, 'test-artifacts', 'ui');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

export interface RecordedContext {
  context: BrowserContext;
  page: Page;
  /** Every URL a page of the context requested. */
  requests: string[];
  /** The bodies of every /api/ answer. */
  apiBodies: string[];
}

export async function recordedPage(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<RecordedContext> {
  const context = await browser.newContext(options);
  const requests: string[] = [];
  const apiBodies: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  context.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/') && !r.url().endsWith('/api/events'))
      r.text().then(
        (t) => apiBodies.push(t),
        () => {},
      );
  });
  const page = await context.newPage();
  return { context, page, requests, apiBodies };
}

/** A full-page screenshot into test-artifacts/ui/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
