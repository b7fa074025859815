/**
 * ui.auth against a real agent: with a bearer token file, the page's data, /status and /audit
 * answer 401 without the token (and with a wrong one), /healthz, /readyz and /metrics stay
 * open, the page asks for the token in a real browser and then shows the apps; with a basic
 * auth file, the page itself asks for credentials. `tether status` and `tether audit --url`
 * send them. Nothing here writes: every UI endpoint refuses anything but GET.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../support/agent.ts';
import { launchChromium, recordedPage, screenshot } from '../../support/browser.ts';
import { createNamespace, tether } from '../../support/cluster.ts';
import { configMap, toYaml } from '../../support/objects.ts';
import { gitServerSuite } from '../../support/suite.ts';

const TOKEN = 'ui-token-9f8e7d6c5b4a';

describe('credentials of the status page (ui.auth)', () => {
  const suite = gitServerSuite();
  let browser: Browser;
  let bearer: RunningAgent;
  let basic: RunningAgent;

  beforeAll(async () => {
    suite
      .git()
      .createRepo('ui-auth')
      .commit({ 'app/cm.yaml': toYaml(configMap({ name: 'c', data: { a: '1' } })) });
    const ns = await createNamespace('uiauth');
    suite.cleanups.push(ns.cleanup);
    const apps = `  - name: auth
    source: {repo: "${suite.git().url('ui-auth')}", ref: main, path: app, interval: 1m}
    destination: {namespace: ${ns.name}, kubeconfig: KUBECONFIG}
    sync: {mode: report}
`;
    // The credential files are read when the agent starts, relative to its config file.
    const dir = () => {
      const d = mkdtempSync(join(tmpdir(), 'tether-ui-auth-'));
      writeFileSync(join(d, 'token'), `${TOKEN}\n`);
      writeFileSync(join(d, 'users'), '# operators\nada:correct horse\n');
      return d;
    };
    bearer = await startAgent({ apps, extra: 'ui:\n  auth: {bearerTokenFile: token}\n', dir: dir() });
    suite.cleanups.push(() => bearer.stop('SIGKILL'));
    basic = await startAgent({ apps, extra: 'ui:\n  auth: {basicAuthFile: users}\n', dir: dir() });
    suite.cleanups.push(() => basic.stop('SIGKILL'));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('answers 401 without the bearer token, keeps the probes and metrics open, and 200 with it', async () => {
    const get = (path: string, token?: string) =>
      fetch(`${bearer.url}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
    for (const path of ['/api/apps', '/api/apps/auth', '/api/audit', '/api/events', '/status', '/audit']) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="tether"');
      expect(await res.text()).not.toContain(TOKEN);
      expect((await get(path, 'wrong-token')).status, path).toBe(401);
    }
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await get(path)).status, path).toBe(200);
    // The page holds no data: it loads, and asks for the token itself.
    expect((await get('/')).status).toBe(200);
    const apps = await get('/api/apps', TOKEN);
    expect(apps.status).toBe(200);
    expect(((await apps.json()) as { apps: { name: string }[] }).apps.map((a) => a.name)).toEqual(['auth']);
    expect((await get('/status', TOKEN)).status).toBe(200);
    // Read-only: nothing but GET.
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
      expect(
        (await fetch(`${bearer.url}/api/apps`, { method, headers: { Authorization: `Bearer ${TOKEN}` } }))
          .status,
      ).toBe(405);
  });

  it('answers on a loopback listener only to a loopback Host (no DNS rebinding)', async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) =>
        get({ host: '127.0.0.1', port: bearer.port, path: '/api/apps', headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject),
      );
    expect(await status('attacker.example.com')).toBe(403);
    expect(await status(`attacker.example.com:${bearer.port}`)).toBe(403);
    expect(await status(`localhost:${bearer.port}`)).toBe(401);
    expect(await status(`[::1]:${bearer.port}`)).toBe(401);
  });

  it('asks for the token in the browser, then shows the apps', async () => {
    const { page, context } = await recordedPage(browser);
    await page.goto(bearer.url);
    await page.getByRole('heading', { name: 'Access token needed' }).waitFor();
    await page.getByLabel('Access token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('table.apps a[href="#/apps/auth"]').waitFor();
    await page.locator('header [role=status]', { hasText: 'Live' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Access token needed' }).count()).toBe(0);
    await screenshot(page, 'token-accepted');
    await context.close();
  });

  it('asks for basic auth on the page itself, and the CLI sends either credential', async () => {
    const page = await fetch(basic.url);
    expect(page.status).toBe(401);
    expect(page.headers.get('www-authenticate')).toMatch(/^Basic realm="tether"/);
    const ok = await fetch(basic.url, {
      headers: { Authorization: `Basic ${Buffer.from('ada:correct horse').toString('base64')}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toContain("default-src 'none'");

    const { page: browserPage, context } = await recordedPage(browser, {
      httpCredentials: { username: 'ada', password: 'correct horse' },
    });
    await browserPage.goto(basic.url);
    await browserPage.locator('table.apps a[href="#/apps/auth"]').waitFor();
    await context.close();

    const refused = await tether(['status', '--url', basic.url]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/HTTP 401, the agent wants credentials/);
    const withUser = await tether([
      'status',
      '--url',
      basic.url.replace('http://', 'http://ada:correct%20horse@'),
    ]);
    expect(withUser.code, withUser.stderr).toBe(0);
    expect(withUser.stdout).toMatch(/^auth\s+report/m);
    expect(withUser.stdout + withUser.stderr).not.toContain('correct');
    const audit = await tether(['audit', '--url', bearer.url], { TETHER_AGENT_TOKEN: TOKEN });
    expect(audit.code, audit.stderr).toBe(0);
  });
});
