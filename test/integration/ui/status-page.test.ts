/**
 * The status page in a real browser (Debian's chromium, driven by playwright-core) against a
 * real agent on the real API server and a real git server: the apps with their commits, a
 * `kubectl scale` shown as drift naming kubectl within 2 s without a reload (report mode), a
 * commit's diff against the live cluster, a revert in the audit trail linked to the commit it
 * reverts, every app reached by keyboard, a phone-sized dark page; no request leaves
 * loopback and no Secret value ever reaches the page. Screenshots go to test-artifacts/ui/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, waitFor, type RunningAgent } from '../../support/agent.ts';
import { launchChromium, recordedPage, screenshot, type RecordedContext } from '../../support/browser.ts';
import { createNamespace, jsonpath, kubectl, tether } from '../../support/cluster.ts';
import { configMap, deployment, secret, toYaml } from '../../support/objects.ts';
import type { Repo } from '../../support/git-server.ts';
import { gitServerSuite, syncedApp } from '../../support/suite.ts';

const SECRET_IN_GIT = 'pw-Do-Not-Show-7731';
const SECRET_LIVE = 'pw-Live-Changed-4411';
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('the status page in a real browser', () => {
  const suite = gitServerSuite();
  let browser: Browser;
  let agent: RunningAgent;
  let web: Awaited<ReturnType<typeof syncedApp>>;
  let apiNs: string;
  let apiRepo: Repo;
  let webRepo: Repo;
  let webSha: string;
  let firstApiSha: string;
  let ctx: RecordedContext;
  let page: Page;
  const contexts: RecordedContext[] = [];

  const appRow = (name: string) =>
    page.locator('table.apps tbody tr', { has: page.locator(`a[href="#/apps/${name}"]`) });

  beforeAll(async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'tether-ui-'));
    // web: report mode, synced once by a user; api and billing: apply mode, from one repository.
    webRepo = suite.git().createRepo('ui-web');
    webSha = webRepo.commit(
      {
        'web/web.yaml': toYaml(deployment({ name: 'web', replicas: 1 })),
        'web/db.yaml': toYaml(secret({ name: 'web-db', stringData: { password: SECRET_IN_GIT } })),
        'web/config.yaml': toYaml(configMap({ name: 'web-config', data: { color: 'blue' } })),
      },
      'web: one replica and its database password',
    );
    web = await syncedApp(suite, { repo: 'ui-web', path: 'web', workDir, prefix: 'uiweb' });
    expect((await web.run('--app', 'web')).code).toBe(0);
    apiRepo = suite.git().createRepo('ui-api');
    firstApiSha = apiRepo.commit(
      {
        'api/config.yaml': toYaml(configMap({ name: 'api-config', data: { level: 'info' } })),
        'billing/config.yaml': toYaml(configMap({ name: 'billing-config', data: { currency: 'EUR' } })),
      },
      'api and billing configuration',
    );
    const ns = await createNamespace('uiapi');
    suite.cleanups.push(ns.cleanup);
    apiNs = ns.name;
    const repo = (name: string) => suite.git().url(name);
    agent = await startAgent({
      apps: `  - name: web
    source: {repo: "${repo('ui-web')}", ref: main, path: web, interval: 2s}
    destination: {namespace: ${web.ns}, kubeconfig: KUBECONFIG}
    sync: {mode: report}
  - name: api
    source: {repo: "${repo('ui-api')}", ref: main, path: api, interval: 1s}
    destination: {namespace: ${apiNs}, kubeconfig: KUBECONFIG}
  - name: billing
    source: {repo: "${repo('ui-api')}", ref: main, path: billing, interval: 1s}
    destination: {namespace: ${apiNs}, kubeconfig: KUBECONFIG}
`,
    });
    suite.cleanups.push(() => agent.stop('SIGKILL'));
    await waitFor(
      async () => {
        const apps = (await agent.status()).apps;
        return (
          apps.every((a) => a.state === 'in-sync') && apps.find((a) => a.name === 'api')?.lastAppliedCommit
        );
      },
      60_000,
      'every app in sync',
    );
    browser = await launchChromium();
    ctx = await recordedPage(browser, { viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    contexts.push(ctx);
    page = ctx.page;
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('lists the apps with their state, health and commit', async () => {
    await page.goto(agent.url);
    await appRow('billing').waitFor();
    await page.locator('table.apps', { hasText: 'Current' }).waitFor();
    for (const [name, sha, subject] of [
      ['web', webSha, 'web: one replica and its database password'],
      ['api', firstApiSha, 'api and billing configuration'],
      ['billing', firstApiSha, 'api and billing configuration'],
    ] as const) {
      const row = appRow(name);
      expect(await row.locator('td[data-label="Seen commit"]').innerText()).toContain(sha.slice(0, 7));
      expect(await row.locator('td[data-label="Seen commit"]').innerText()).toContain(subject);
      expect(await row.locator('td[data-label="State"]').innerText()).toContain('in-sync');
    }
    expect(await appRow('api').locator('td[data-label="Applied commit"]').innerText()).toContain(
      firstApiSha.slice(0, 7),
    );
    expect(await appRow('web').locator('td[data-label="Applied commit"]').innerText()).toContain(
      'report mode',
    );
    await page.getByLabel('Search').fill('ui-web');
    await page.getByText('1 of 3 apps').waitFor();
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Mode').selectOption('report');
    await page.getByText('1 of 3 apps').waitFor();
    await page.getByLabel('Mode').selectOption('');
    await screenshot(page, 'apps');
  });

  it('shows a kubectl scale as drift naming kubectl within 2 s, without a reload (report mode)', async () => {
    await page.goto(`${agent.url}/#/apps/web`);
    await page.getByRole('heading', { name: 'App web' }).waitFor();
    await page.locator('header [role=status]', { hasText: 'Live' }).waitFor();
    await page.locator('table.objects').first().waitFor();
    expect(await page.locator('table.fields').count()).toBe(0);
    await page.evaluate(() => ((globalThis as Record<string, unknown>)['sameDocument'] = true));

    await kubectl(['-n', web.ns, 'scale', 'deployment', 'web', '--replicas=3']);
    const scaled = performance.now();
    const fields = page.locator('table.fields', { hasText: '.spec.replicas' });
    await fields.waitFor({ timeout: 2_000 });
    await fields.locator('strong', { hasText: 'kubectl' }).waitFor({ timeout: 2_000 });
    const elapsed = performance.now() - scaled;
    console.log(`kubectl scale shown on the page after ${Math.round(elapsed)} ms`);
    expect(elapsed).toBeLessThan(2_000);
    expect(await page.evaluate(() => (globalThis as Record<string, unknown>)['sameDocument'])).toBe(true);

    const row = fields.locator('tbody tr', { hasText: '.spec.replicas' });
    expect(await row.locator('td').nth(0).innerText()).toBe('1');
    expect(await row.locator('td').nth(1).innerText()).toBe('3');
    expect(await row.locator('td').nth(2).innerText()).toMatch(/kubectl\s*\(Update/);
    await page.getByLabel('Only objects that differ from Git').check();
    expect(await page.locator('table.objects tbody th[data-label="Name"]').allInnerTexts()).toEqual(['web']);
    await page.getByLabel('Only objects that differ from Git').uncheck();
    await screenshot(page, 'app-drift');
    // Report mode: nothing reverted it.
    expect(await jsonpath(web.ns, 'deployment', 'web', '{.spec.replicas}')).toBe('3');
  });

  it("diffs the app's commit against the live cluster as tether diff does, writing nothing", async () => {
    await page.goto(`${agent.url}/#/apps/web`);
    await page.getByRole('link', { name: `Diff ${webSha.slice(0, 7)} against the live cluster` }).click();
    await page
      .getByRole('heading', { name: `Diff of ${webSha.slice(0, 7)} against the live cluster` })
      .waitFor();
    await page.getByText(/1 object would change/).waitFor({ timeout: 30_000 });
    const section = page.locator('section.diff-object', { hasText: 'Deployment' });
    expect(await section.locator('h2').innerText()).toContain('update');
    expect(await section.locator('table.fields').innerText()).toMatch(/\.spec\.replicas[\s\S]*kubectl/);
    const diff = await section.locator('pre.diff').innerText();
    expect(diff).toMatch(/^-\s+replicas: 3$/m);
    expect(diff).toMatch(/^\+\s+replicas: 1$/m);
    await screenshot(page, 'diff');
    expect(await jsonpath(web.ns, 'deployment', 'web', '{.spec.replicas}')).toBe('3');
  });

  it('never shows a Secret value, in Git or live, on the page or in its data', async () => {
    await kubectl([
      '-n',
      web.ns,
      'patch',
      'secret',
      'web-db',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ stringData: { password: SECRET_LIVE } }),
    ]);
    await page.goto(`${agent.url}/#/apps/web`);
    const fields = page.locator('table.fields', { hasText: 'Secret' });
    await fields.waitFor({ timeout: 10_000 });
    expect(await fields.innerText()).toContain('***');
    await page.goto(`${agent.url}/#/apps/web/diff/${webSha}`);
    await page.getByText(/2 objects would change/).waitFor({ timeout: 30_000 });
    await page.goto(`${agent.url}/#/audit`);
    await page.getByRole('heading', { name: 'Hash chain' }).waitFor();
    const text = await page.locator('body').innerText();
    const everything = [text, ...ctx.apiBodies].join('\n');
    expect(ctx.apiBodies.length).toBeGreaterThan(5);
    for (const v of [SECRET_IN_GIT, SECRET_LIVE, b64(SECRET_IN_GIT), b64(SECRET_LIVE)])
      expect(everything).not.toContain(v);
  });

  it('shows a revert in the audit trail, linked to the commit it reverts', async () => {
    const bad = apiRepo.commit(
      { 'api/config.yaml': toYaml(configMap({ name: 'api-config', data: { level: 'debug' } })) },
      'a bad release',
    );
    const applied = (sha: string) =>
      waitFor(
        async () => (await agent.status()).apps.find((a) => a.name === 'api')?.lastAppliedCommit === sha,
        20_000,
        `api applies ${sha.slice(0, 7)}`,
      );
    await applied(bad);
    const r = await tether(['revert', bad, '--repo', suite.git().url('ui-api'), '--ref', 'main', '--push'], {
      GIT_AUTHOR_NAME: 'On Call',
      GIT_AUTHOR_EMAIL: 'oncall@example.com',
    });
    expect(r.code, r.stderr).toBe(0);
    const revert = /^([0-9a-f]{40}) reverts /.exec(r.stdout)![1]!;
    await applied(revert);

    await page.goto(`${agent.url}/#/audit?app=api`);
    await page.getByRole('heading', { name: 'Audit trail of api' }).waitFor();
    const group = page.locator(`#commit-api-${revert}`);
    await group.waitFor();
    expect(await group.locator('h2').innerText()).toContain('Revert "a bad release"');
    expect(await group.innerText()).toMatch(/applied/);
    expect(await page.locator('section.chain').innerText()).toMatch(/Verified: \d+ records/);
    expect(await page.locator('section.chain').innerText()).toMatch(
      /Anchor of api: seq \d+ .*matches the log/,
    );
    const link = group.locator('a.revert-link');
    expect(await link.innerText()).toContain(`${bad.slice(0, 7)} a bad release`);
    expect(await link.getAttribute('href')).toBe(`#/audit?app=api&group=api%40${bad}`);
    await link.click();
    // The page's CSP forbids eval: a :focus locator asks the browser where the focus is.
    await page.locator(`#commit-api-${bad}:focus`).waitFor();
    const target = page.locator(`#commit-api-${bad}`);
    expect(await target.innerText()).toMatch(/Reverted by\s+\S+ Revert "a bad release"/);
    // The field change of the bad commit is in its group: level info -> debug.
    expect(await target.locator('table.fields').first().innerText()).toMatch(
      /\.data\.level\s+"debug"\s+"info"/,
    );
    await screenshot(page, 'audit-revert');
  });

  it('lists objects missing from the cluster and orphaned ones no longer in Git', async () => {
    const sha = webRepo.commit(
      {
        'web/config.yaml': null,
        'web/extra.yaml': toYaml(configMap({ name: 'web-extra', data: { size: 'large' } })),
      },
      'web: extra config instead of the old one',
    );
    await page.goto(`${agent.url}/#/apps/web`);
    const status = (name: string) =>
      page
        .locator('table.objects tbody tr', { has: page.locator(`th:text-is("${name}")`) })
        .locator('.badge')
        .first();
    await page
      .locator(`text=${sha.slice(0, 7)}`)
      .first()
      .waitFor({ timeout: 15_000 });
    await status('web-extra').filter({ hasText: 'missing' }).waitFor({ timeout: 15_000 });
    await status('web-config').filter({ hasText: 'orphaned' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('tr', { has: page.locator('th:text-is("web-config")') }).innerText()).toContain(
      'not in Git',
    );
    await screenshot(page, 'app-missing-orphaned');
  });

  it('reaches every app by keyboard alone, from the top of the page', async () => {
    await page.goto(agent.url);
    await appRow('billing').waitFor();
    const reached: string[] = [];
    for (let i = 0; i < 40 && reached.length < 3; i++) {
      await page.keyboard.press('Tab');
      const href = await page.evaluate('document.activeElement?.getAttribute("href") ?? ""');
      if (typeof href === 'string' && href.startsWith('#/apps/')) reached.push(href);
    }
    expect(reached).toEqual(['#/apps/web', '#/apps/api', '#/apps/billing']);
    // Enter follows the focused link, and the new page's heading takes the focus.
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'App billing' }).waitFor();
    await page.locator('h1:focus', { hasText: 'App billing' }).waitFor();
  });

  it('fits a phone screen in the dark theme, and the theme toggle switches it', async () => {
    const phone = await recordedPage(browser, {
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
      isMobile: true,
      hasTouch: true,
    });
    contexts.push(phone);
    await phone.page.goto(agent.url);
    await phone.page.locator('table.apps tbody tr').nth(2).waitFor();
    expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const background = () => phone.page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(await background()).toBe('rgb(13, 17, 23)');
    await screenshot(phone.page, 'apps-phone-dark');
    await phone.page.goto(`${agent.url}/#/apps/web`);
    await phone.page.locator('table.fields').first().waitFor();
    expect(await phone.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(phone.page, 'app-phone-dark');
    await phone.page.getByRole('button', { name: /Theme: auto/ }).click();
    // The theme is applied in an effect, after the next render: poll instead of reading once.
    await expect.poll(background, { timeout: 2_000 }).toBe('rgb(255, 255, 255)');
    await phone.context.close();
  });

  it('sent no request beyond loopback', () => {
    const all = contexts.flatMap((c) => c.requests);
    expect(all.length).toBeGreaterThan(20);
    const hosts = new Set(all.map((u) => new URL(u).hostname));
    expect([...hosts]).toEqual(['127.0.0.1']);
  });
});
