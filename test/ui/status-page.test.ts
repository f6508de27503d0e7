import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { sessionsComponent } from '../../src/sources/sessions/index.js';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { describeWithBinaries, readRepoFile, repoPath } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';

const TOKEN = 'status-page-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/** Jest's backstop for a hung browser on a loaded machine, not a speed requirement. */
const BROWSER_BACKSTOP_MS = 180_000;

/** Text of an element once it matches (playwright polls; no fixed sleep, no upper limit of ours: jest's is the backstop). */
async function textWhen(page: Page, selector: string, pattern: RegExp): Promise<string> {
  const locator = page.locator(selector).filter({ hasText: pattern });
  await locator.waitFor({ timeout: 0 });
  return locator.innerText();
}

describeWithBinaries(['chromium'], 'the status page in a real browser (chromium)', () => {
  let api: RunningBridge;
  let browser: Browser;
  let page: Page;
  const shots = mkdtempSync(path.join(tmpdir(), 'claude-bridge-status-page-'));

  beforeAll(async () => {
    api = await startBridge({
      config: testConfig({ auth: { token: TOKEN }, usage: { source: 'none' }, recovery: { backoff: { base_s: 600, cap_s: 3600 } } }),
      components: [hooksComponent, sessionsComponent, createUsageComponent({ timeZone: 'UTC' })],
    });
    // Chromium keeps the true clock: libfaketime (CI's shifted run) preloaded into it would stall it,
    // and the page measures the gap between the bridge's clock and its own anyway.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'LD_PRELOAD' && !k.startsWith('FAKETIME'))) as Record<string, string>;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'], env });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  }, BROWSER_BACKSTOP_MS);
  afterAll(async () => {
    await browser?.close();
    await api?.stop();
  });

  it('shows normal → backoff → paused → resumed live, without a reload, and the resume button asks for the token', async () => {
    const statusline = JSON.parse(readRepoFile('test/fixtures/claude-code/statusline-input.json')) as Record<string, any>;
    // Its recorded reset times lie in the past: shifted ahead of now, as a live status line's are.
    statusline.rate_limits.five_hour.resets_at = Math.floor(Date.now() / 1000) + 3600;
    statusline.rate_limits.seven_day.resets_at = Math.floor(Date.now() / 1000) + 3 * 86_400;
    expect((await api.post('/statusline', statusline, auth)).status).toBe(200);
    expect((await api.post('/hooks', JSON.parse(readRepoFile('test/fixtures/claude-code/http-hook-inputs/PreToolUse.json')))).status).toBe(200);

    await page.goto(api.url);
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'not reloaded'));
    await textWhen(page, '#state', /^normal$/);
    await textWhen(page, '#connection', /^live$/);
    // The session from the status line and the hook: model, cost, the decision served.
    const sessions = await textWhen(page, '#sessions tbody', /Opus/);
    expect(sessions).toContain('$0.01');
    expect(sessions).toContain('proj');
    await textWhen(page, '#decisions', /PreToolUse: allow/);
    await textWhen(page, '#usage', /5-hour window\s*24%/);
    await textWhen(page, '#usage', /Weekly\s*41% · resets \S+ /);
    await textWhen(page, '#usage', /source: official/);
    expect(await page.locator('#resume').isHidden()).toBe(true);
    await page.screenshot({ path: path.join(shots, '1-normal.png'), fullPage: true });

    expect((await api.post('/alerts/rate_limit', { summary: 'API rate limit hit' }, auth)).status).toBe(200);
    await textWhen(page, '#state', /^backoff$/);
    await textWhen(page, '#reason', /API rate limit hit/);
    await textWhen(page, '#alerts', /rate_limit → exponential_backoff/);
    const first = await textWhen(page, '#countdown', /^backoff ends in \d+:\d\d$/);
    // The countdown moves by itself between updates.
    await page.waitForFunction((before) => document.getElementById('countdown')?.textContent !== before, first, { timeout: 0 });
    await page.screenshot({ path: path.join(shots, '2-backoff.png'), fullPage: true });

    const resetsAt = Math.floor(Date.now() / 1000) + 2 * 3600;
    expect((await api.post('/alerts/time_limit', { summary: '5-hour session long', resets_at: resetsAt }, auth)).status).toBe(200);
    await textWhen(page, '#state', /^paused$/);
    await textWhen(page, '#countdown', /^resumes in (1:59:\d\d|2:00:00)$/);
    await textWhen(page, '#reason', /5-hour session long/);
    await page.screenshot({ path: path.join(shots, '3-paused.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      mkdirSync(repoPath('docs'), { recursive: true });
      await page.screenshot({ path: repoPath('docs/status-page.png'), fullPage: true });
    }

    // The bridge has a token: without it the button asks for it and nothing changes.
    await page.click('#resume');
    await textWhen(page, '#resume-result', /enter the bridge token/);
    expect((await api.get('/recovery/status')).body.state).toBe('paused');
    await page.fill('#token', 'wrong-token-0123456789');
    await page.click('#resume');
    await textWhen(page, '#resume-result', /the token was refused/);
    await page.fill('#token', TOKEN);
    await page.click('#resume');
    await textWhen(page, '#resume-result', /resumed: normal/);
    await textWhen(page, '#state', /^normal$/);
    await textWhen(page, '#alerts', /none/);
    expect(await page.locator('#countdown').innerText()).toBe('');
    expect((await api.get('/recovery/status')).body.state).toBe('normal');
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('not reloaded');
    await page.screenshot({ path: path.join(shots, '4-resumed.png'), fullPage: true });
  }, BROWSER_BACKSTOP_MS);

  it('fits a narrow window: nothing wider than the screen but the sessions table, which scrolls in its card', async () => {
    const narrow = await browser.newPage({ viewport: { width: 380, height: 800 } });
    try {
      await narrow.goto(api.url);
      await textWhen(narrow, '#state', /^\w+$/);
      const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await narrow.screenshot({ path: path.join(shots, '5-narrow.png'), fullPage: true });
    } finally {
      await narrow.close();
    }
  }, BROWSER_BACKSTOP_MS);

  it('is one self-contained page of a few tens of KB that loads nothing else (no CDN)', async () => {
    const requests: string[] = [];
    const fresh = await browser.newPage();
    try {
      fresh.on('request', (request) => requests.push(request.url()));
      await fresh.goto(api.url);
      await textWhen(fresh, '#connection', /^live$/);
      expect(requests.every((url) => url.startsWith(api.url))).toBe(true);
      expect(requests.map((url) => new URL(url).pathname).sort()).toEqual(['/', '/status/stream']);
      expect(statSync(repoPath('dist/ui/status-page.html')).size).toBeLessThan(50_000);
    } finally {
      await fresh.close();
    }
  }, BROWSER_BACKSTOP_MS);
});

describe('GET / for API clients and browsers', () => {
  let api: RunningBridge;
  beforeAll(async () => {
    api = await startBridge({ config: testConfig({ usage: { source: 'none' } }), components: [sessionsComponent] });
  });
  afterAll(() => api.stop());

  it('answers JSON by default and the page to Accept: text/html', async () => {
    expect((await api.get('/')).body.name).toBe('claude-monitoring-bridge');
    const html = await fetch(`${api.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const text = await html.text();
    expect(text).toContain('<title>Claude bridge</title>');
    expect(text).not.toMatch(/<(script|link)[^>]+(src|href)=/);
  });

  it('streams the status summary as server-sent events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${api.url}/status/stream`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let received = '';
    while (!received.includes('\n\n', received.indexOf('event: status'))) {
      const chunk = await reader.read();
      if (chunk.done) break;
      received += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    const data = /event: status\ndata: (.*)\n\n/.exec(received)?.[1];
    expect(JSON.parse(data!)).toMatchObject({ recovery: { state: 'normal' }, sessions_data: { sessions: [] } });
  });
});
