import { hooksComponent } from '../../src/sources/hooks/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture, readJsonLinesFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { FakeHooksServer, type StoredEvent } from './support/fake-hooks-server.js';
import { AFTER_FIXTURES, tempStateDir } from './support/harness.js';
import { waitFor } from './support/metrics.js';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The samples of a Prometheus text exposition (the bridge's own, so its simple label values). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function sum(samples: Sample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0);
}

function byLabel(samples: Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.name === name && x.value !== 0)) out[s.labels[label]!] = (out[s.labels[label]!] ?? 0) + s.value;
  return out;
}

describe('one count per fact: the JSON /metrics and /prometheus are read from the same metrics', () => {
  let api: RunningBridge;
  let server: FakeHooksServer;
  afterEach(async () => {
    await api?.stop();
    await server?.close();
  });

  it('agree after a mixed workload over every transport', async () => {
    server = await FakeHooksServer.start();
    const clock = new ManualClock(AFTER_FIXTURES);
    const config = testConfig({ hooks_server: { enabled: true, url: server.url }, state: { dir: tempStateDir() } });
    api = await startBridge({ config, clock, components: [hooksComponent] });
    await waitFor(async () => (await api.get('/health')).body.websocket === 'connected', 'the WebSocket');

    const frames = readJsonLinesFixture<{ type: string; data: StoredEvent }>('hooks-server', 'ws-frames.jsonl');
    for (const frame of frames.filter((f) => f.type === 'event')) await server.sendEvent(frame.data);
    for (const record of readJsonLinesFixture<{ body: unknown }>('hooks-server', 'send_event-post-bodies.jsonl')) await api.post('/events', record.body);
    for (const name of ['PreToolUse', 'PostToolUse', 'UserPromptSubmit', 'Stop', 'StopFailure', 'SessionEnd']) {
      await api.post(`/hooks/${name}`, readJsonFixture('claude-code', 'http-hook-inputs', `${name}.json`));
    }
    api.bridge.controller.fire({ type: 'time_limit', origin: 'manual', resetsAt: AFTER_FIXTURES + 3_600_000 });
    await api.post('/hooks/PreToolUse', readJsonFixture('claude-code', 'http-hook-inputs', 'PreToolUse.json')); // denied
    await api.post('/events', '{"not json', { 'content-type': 'application/json' }); // malformed
    await api.post('/hooks/Bad%20Name', {}); // malformed
    const liveEvents = frames.filter((f) => f.type === 'event').length;
    await waitFor(async () => (await api.get('/metrics')).body.hooks_data.events_total >= liveEvents, 'the live frames');

    const json = (await api.get('/metrics')).body.hooks_data;
    const prom = parseExposition((await api.get('/prometheus')).text);
    expect(json.events_total).toBeGreaterThan(liveEvents); // every transport counted
    expect(json).toMatchObject({
      events_total: sum(prom, 'claude_bridge_hook_events_total'),
      events_by_type: byLabel(prom, 'claude_bridge_hook_events_total', 'event'),
      events_by_source_app: byLabel(prom, 'claude_bridge_hook_events_total', 'source_app'),
      duplicates_dropped_total: sum(prom, 'claude_bridge_hook_events_duplicate_total'),
      malformed_total: sum(prom, 'claude_bridge_hook_events_malformed_total'),
      tool_calls_by_tool: byLabel(prom, 'claude_bridge_tool_calls_total', 'tool'),
      tool_failures_by_tool: byLabel(prom, 'claude_bridge_tool_failures_total', 'tool'),
      tool_duration_seconds: { count: sum(prom, 'claude_bridge_tool_duration_seconds_count'), sum: sum(prom, 'claude_bridge_tool_duration_seconds_sum') },
      sessions: {
        started_total: sum(prom, 'claude_bridge_sessions_started_total'),
        ended_total: sum(prom, 'claude_bridge_sessions_ended_total'),
        active: sum(prom, 'claude_bridge_sessions_active'),
      },
      prompts_total: sum(prom, 'claude_bridge_prompts_total'),
      notifications_by_type: byLabel(prom, 'claude_bridge_notifications_total', 'notification_type'),
      compactions_total: sum(prom, 'claude_bridge_compactions_total'),
      stop_failures_by_error: byLabel(prom, 'claude_bridge_stop_failures_total', 'error'),
      decisions_by_kind: byLabel(prom, 'claude_bridge_hook_decisions_total', 'decision'),
    });
    // Not vacuous: each kind of fact happened.
    expect(json.duplicates_dropped_total).toBeGreaterThan(0);
    expect(json.malformed_total).toBe(2);
    expect(json.decisions_by_kind).toEqual({ allow: 6, deny: 1 });
    expect(json.stop_failures_by_error.rate_limit).toBeGreaterThan(0);
    expect(json.tool_duration_seconds.count).toBeGreaterThan(0);
    const newest = Math.max(...prom.filter((s) => s.name === 'claude_bridge_last_event_timestamp_seconds').map((s) => s.value));
    expect(Date.parse(json.last_event_at)).toBe(Math.round(newest * 1000));
  });
});
