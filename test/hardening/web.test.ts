import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

/** A raw request, so that Host and Origin are exactly what a browser or attacker would send. */
function raw(api: RunningBridge, method: string, pathName: string, headers: Record<string, string>, body?: string) {
  const url = new URL(api.url);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: pathName, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('nothing a web page can do reaches the bridge (issue 10, point 6)', () => {
  let api: RunningBridge;
  let host: string;
  beforeEach(async () => {
    api = await startBridge({
      clock: new ManualClock(NOW),
      config: testConfig({ usage: { source: 'none' }, hooks_server: { enabled: false }, server: { allowed_hosts: ['bridge'], allowed_origins: ['http://localhost:3000'] } }),
      components: [hooksComponent, createUsageComponent({ timeZone: 'UTC' })],
    });
    host = new URL(api.url).host;
  });
  afterEach(async () => api.stop());
  const state = async () => (await api.get('/recovery/status')).body.state;

  it('a cross-site form or fetch cannot pause Claude Code', async () => {
    const evil = { host, origin: 'https://evil.example' };
    expect((await raw(api, 'POST', '/alerts/time_limit', { ...evil, 'content-type': 'text/plain' }, '{}')).status).toBe(403);
    expect((await raw(api, 'POST', '/alerts/time_limit', { ...evil, 'content-type': 'application/json' }, '{}')).status).toBe(403);
    expect((await raw(api, 'POST', '/recovery/resume', evil)).status).toBe(403);
    expect((await raw(api, 'POST', '/alerts/time_limit', { origin: 'null', host, 'content-type': 'application/json' }, '{}')).status).toBe(403);
    // Without an Origin (a form submitted by a non-browser), the form content types are still refused.
    const form = await raw(api, 'POST', '/alerts/time_limit', { host, 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    expect(form).toEqual({ status: 415, body: { error: expect.stringContaining('must be JSON') } });
    expect((await raw(api, 'OPTIONS', '/alerts/time_limit', { host, origin: 'http://localhost:3000' })).status).toBe(405);
    expect(await state()).toBe('normal');
  });

  it('a DNS-rebound name cannot read or drive the API; configured names and loopback can', async () => {
    const port = new URL(api.url).port;
    const rebound = await raw(api, 'GET', '/recovery/status', { host: `evil.example:${port}` });
    expect(rebound).toEqual({ status: 403, body: { error: expect.stringContaining('server.allowed_hosts') } });
    for (const name of [`bridge:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `BRIDGE:${port}`]) {
      expect({ name, status: (await raw(api, 'GET', '/recovery/status', { host: name })).status }).toEqual({ name, status: 200 });
    }
  });

  it('the bridge\'s own pages and allowed origins may post; Claude Code, send_event.py and the status line still work', async () => {
    expect((await raw(api, 'POST', '/alerts/test_alert', { host, origin: `http://${host}`, 'content-type': 'application/json' }, '{}')).status).toBe(200);
    expect((await raw(api, 'POST', '/alerts/test_alert?resolve=1', { host, origin: 'http://localhost:3000', 'content-type': 'application/json' }, '{}')).status).toBe(200);
    const hookInput = JSON.stringify(readJsonFixture('claude-code', 'http-hook-inputs', 'PreToolUse.json'));
    expect((await raw(api, 'POST', '/hooks/PreToolUse', { host, 'content-type': 'application/json' }, hookInput)).status).toBe(200);
    const sent = JSON.stringify({ source_app: 'demo', session_id: 's', hook_event_type: 'Stop', payload: {} });
    const headers = { host, 'content-type': 'application/json', 'user-agent': 'Claude-Code-Hook/1.0' };
    expect((await raw(api, 'POST', '/events', headers, sent)).status).toBe(200);
    expect((await raw(api, 'POST', '/statusline', { host, 'content-type': 'application/json' }, '{"session_id":"s"}')).status).toBe(200);
    expect((await raw(api, 'POST', '/recovery/resume', { host })).status).toBe(200); // curl -X POST, no body
  });
});

describe('limits on what one request can do (issue 10, points 5 and 9)', () => {
  let api: RunningBridge;
  afterEach(async () => api?.stop());

  it('a deeply nested body is refused with 400 and counted as malformed, never as an event', async () => {
    api = await startBridge({ config: testConfig({ hooks_server: { enabled: false } }), components: [hooksComponent] });
    const payload = `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`; // too deep for JSON.stringify to have made it
    const answer = await api.post('/events', `{"source_app":"x","session_id":"s","hook_event_type":"Stop","payload":${payload}}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toContain('nested deeper than 64');
    const hooks = (await api.get('/metrics')).body.hooks_data;
    expect(hooks).toMatchObject({ events_total: 0, malformed_total: 1 });
  });

  it('hook inputs have their own body limit; a 404 does not echo a long path; OPTIONS is refused', async () => {
    api = await startBridge({ config: testConfig({ hooks_server: { enabled: false }, server: { hooks_body_limit: '64kb' } }), components: [hooksComponent] });
    const big = { ...readJsonFixture<Record<string, unknown>>('claude-code', 'http-hook-inputs', 'PreToolUse.json'), tool_input: { content: 'x'.repeat(100_000) } };
    expect((await api.post('/hooks/PreToolUse', big)).status).toBe(413);
    expect((await api.post('/events', { source_app: 'x', session_id: 's', hook_event_type: 'Stop', payload: big })).status).toBe(200);
    const long = await api.get(`/${'a'.repeat(16_000)}`);
    expect(long.status).toBe(404);
    expect(long.text.length).toBeLessThan(400);
  });

  it('holds are capped by hooks.max_held_requests: past it a hook is answered at once and counted', async () => {
    const clock = new ManualClock(NOW);
    api = await startBridge({ clock, config: testConfig({ hooks_server: { enabled: false }, hooks: { max_held_requests: 2 } }), components: [hooksComponent] });
    api.bridge.controller.fire({ type: 'rate_limit', origin: 'manual' });
    const input = readJsonFixture('claude-code', 'http-hook-inputs', 'PreToolUse.json');
    const held = [api.post('/hooks/PreToolUse', input), api.post('/hooks/PreToolUse', input)];
    await waitForTimers(clock, 2);
    const third = await api.post('/hooks/PreToolUse', input); // answered while the two are still held
    expect(third).toMatchObject({ status: 200, body: {} });
    expect((await api.get('/prometheus')).text).toMatch(/^claude_bridge_hook_holds_refused_total 1$/m);
    clock.advance(1000);
    for (const answer of await Promise.all(held)) expect(answer.status).toBe(200);
  });
});

async function waitForTimers(clock: ManualClock, count: number): Promise<void> {
  for (let i = 0; i < 500 && clock.pendingTimers() < count + 1; i += 1) await new Promise((resolve) => setImmediate(resolve));
  expect(clock.pendingTimers()).toBeGreaterThanOrEqual(count);
}

describe('config that could never work is refused, naming the key (issue 10, point 7)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-config-'));
  const load = (yaml: string) => {
    const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    try {
      loadConfig({ configPath: file }, {}, dir);
      return 'loaded';
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
  };

  it.each([
    ['an all-white-space token', 'auth:\n  token: "                    "\n', /auth\.token: .*white space/],
    ['a token with surrounding spaces', 'auth:\n  token: " 0123456789abcdef0123 "\n', /auth\.token: .*white space/],
    ['a circular YAML alias', 'recovery: &a\n  backoff: *a\n', /circular/],
    ['a signal TTL of 1e300 s', 'recovery:\n  backoff:\n    signal_ttl_s: 1e300\n', /recovery\.backoff\.signal_ttl_s: .*<= 86400/],
    ['a base delay of 1e300 s', 'recovery:\n  backoff:\n    base_s: 1e300\n', /recovery\.backoff\.base_s: .*<= 3600/],
    ['a cap of 1e300 s', 'recovery:\n  backoff:\n    cap_s: 1e300\n', /recovery\.backoff\.cap_s: .*<= 86400/],
    ['a host name with a port', 'server:\n  allowed_hosts: ["bridge:8080"]\n', /server\.allowed_hosts\.0: .*host name/],
  ])('%s', (_name, yaml, message) => {
    expect(load(yaml)).toMatch(message);
  });
});
