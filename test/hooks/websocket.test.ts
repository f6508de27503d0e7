import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { HookActivity } from '../../src/sources/hooks/activity.js';
import { HookEventSink } from '../../src/sources/hooks/sink.js';
import { HooksServerSource } from '../../src/sources/hooks/hooks-server.js';
import { recentEventsUrl } from '../../src/sources/hooks/window-fetch.js';
import { silentLogger } from '../../src/util/logger.js';
import { testConfig } from '../support/config.js';
import { readFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { FakeHooksServer, initialFrameOf, type StoredEvent } from './support/fake-hooks-server.js';
import { AFTER_FIXTURES, hooksHarness, tempStateDir, type ComponentHarness } from './support/harness.js';
import { family, samples, sampleKey, waitFor } from './support/metrics.js';

const FRAME_LINES = readFixture('hooks-server', 'ws-frames.jsonl').split('\n').filter((l) => l.trim() !== '');
const RECONNECT_INITIAL = readFixture('hooks-server', 'ws-initial-frame-after-reconnect.json');
const SOURCE = 'cc-hook-multi-agent-obvs';

function configFor(server: FakeHooksServer, extra: { max_frame_bytes?: number } = {}) {
  return testConfig({ hooks_server: { url: server.url, reconnect_initial_ms: 1000, reconnect_max_ms: 8000, ...extra } });
}

function event(id: number, type: string, payload: Record<string, unknown> = {}, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    source_app: 'synthetic',
    session_id: 'sess-a',
    hook_event_type: type,
    payload: { hook_event_name: type, ...payload },
    timestamp: AFTER_FIXTURES - 3_600_000 + id * 1000,
    id,
    ...extra,
  };
}

describe('hooks server WebSocket client', () => {
  let server: FakeHooksServer;
  let harness: ComponentHarness;

  beforeEach(async () => {
    server = await FakeHooksServer.start();
  });
  afterEach(async () => {
    await harness?.component.stop?.();
    await server.close();
  });

  const total = async () => (await harness.summary()).events_total;
  const duplicates = async () => (await harness.summary()).duplicates_dropped_total;
  const connected = () => harness.websocketState() === 'connected';

  async function reconnect(expectedConnections: number): Promise<void> {
    server.dropConnections();
    await waitFor(() => harness.websocketState() === 'disconnected', 'disconnect');
    harness.clock.advance(1000); // the first reconnect delay (jitter keeps 50–100 % of it)
    await waitFor(() => server.connections === expectedConnections && connected(), 'reconnect');
  }

  it('replays the recorded stream, survives a reconnect replay, and counts every event exactly once', async () => {
    server.initialFrame = FRAME_LINES[0]!;
    harness = hooksHarness(configFor(server));
    await harness.component.start!();
    await waitFor(connected, 'connection');
    for (const line of FRAME_LINES.slice(1)) await server.send(line);
    await waitFor(async () => (await total()) === 18 && (await duplicates()) === 1, 'the 19 live frames');

    // The server restarts with the same database: the next connect replays it, ordered by timestamp.
    server.initialFrame = RECONNECT_INITIAL;
    server.stored = (JSON.parse(RECONNECT_INITIAL) as { data: StoredEvent[] }).data;
    await reconnect(2);
    await waitFor(async () => (await duplicates()) === 19, 'the replay to be dropped');
    expect(server.recentRequests).toEqual([]); // the replay holds the last counted event: nothing to ask for

    const m = await samples(harness.registry);
    expect(await family(harness.registry, 'claude_bridge_hook_events_total')).toEqual({
      [sampleKey('claude_bridge_hook_events_total', { event: 'SessionStart', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'UserPromptSubmit', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PreToolUse', source_app: SOURCE })]: 2,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PermissionRequest', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'Notification', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PostToolUse', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PostToolUseFailure', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'SubagentStart', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'SubagentStop', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PreCompact', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'Stop', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'SessionEnd', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'HumanInTheLoop', source_app: SOURCE })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PreToolUse', source_app: 'demo-agent' })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PreToolUse', source_app: 'test' })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PostToolUse', source_app: 'test' })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'Stop', source_app: 'test' })]: 1,
    });
    expect(m.get('claude_bridge_hook_events_duplicate_total')).toBe(19);
    expect(m.get(sampleKey('claude_bridge_hook_events_malformed_total', { transport: 'websocket' }))).toBe(0);
    expect(await family(harness.registry, 'claude_bridge_tool_calls_total')).toEqual({
      [sampleKey('claude_bridge_tool_calls_total', { tool: 'Bash' })]: 3,
      [sampleKey('claude_bridge_tool_calls_total', { tool: 'Read' })]: 1,
    });
    expect(await family(harness.registry, 'claude_bridge_tool_failures_total')).toEqual({
      [sampleKey('claude_bridge_tool_failures_total', { tool: 'Read' })]: 1,
    });
    // Paired by tool_use_id with the events' own timestamps: 3→6 and 7→8.
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_count', { tool: 'Bash' }))).toBe(1);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_sum', { tool: 'Bash' }))).toBeCloseTo(2.013, 6);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_bucket', { tool: 'Bash', le: 2.5 }))).toBe(1);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_bucket', { tool: 'Bash', le: 1 }))).toBe(0);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_count', { tool: 'Read' }))).toBe(1);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_sum', { tool: 'Read' }))).toBeCloseTo(0.672, 6);
    expect(m.get('claude_bridge_sessions_started_total')).toBe(1);
    expect(m.get('claude_bridge_sessions_ended_total')).toBe(1);
    // test-1234, hitl-sess-1 and s; the recorded session ended (the demo-agent straggler does not revive it).
    expect(m.get('claude_bridge_sessions_active')).toBe(3);
    expect(m.get('claude_bridge_subagents_started_total')).toBe(1);
    expect(m.get('claude_bridge_subagents_stopped_total')).toBe(1);
    expect(m.get('claude_bridge_prompts_total')).toBe(1);
    expect(await family(harness.registry, 'claude_bridge_notifications_total')).toEqual({
      [sampleKey('claude_bridge_notifications_total', { notification_type: 'permission_prompt' })]: 1,
    });
    expect(await family(harness.registry, 'claude_bridge_compactions_total')).toEqual({
      [sampleKey('claude_bridge_compactions_total', { trigger: 'manual' })]: 1,
    });
    expect(await family(harness.registry, 'claude_bridge_stop_failures_total')).toEqual({});
    expect(await family(harness.registry, 'claude_bridge_last_event_timestamp_seconds')).toEqual({
      [sampleKey('claude_bridge_last_event_timestamp_seconds', { source_app: SOURCE })]: 1795623329.364,
      [sampleKey('claude_bridge_last_event_timestamp_seconds', { source_app: 'demo-agent' })]: 1795623313.887,
      [sampleKey('claude_bridge_last_event_timestamp_seconds', { source_app: 'test' })]: 1795623330.198,
    });
    expect(m.get('claude_bridge_hooks_websocket_connected')).toBe(1);
    expect(m.get('claude_bridge_hooks_websocket_reconnects_total')).toBe(1);
    expect(m.get(sampleKey('claude_bridge_source_up', { source: 'hooks_server' }))).toBe(1);
    expect(m.get(sampleKey('claude_bridge_source_errors_total', { source: 'hooks_server' }))).toBe(1);

    expect(await harness.summary()).toMatchObject({
      events_total: 18,
      events_by_source_app: { [SOURCE]: 14, 'demo-agent': 1, test: 3 },
      duplicates_dropped_total: 19,
      malformed_total: 0,
      tool_calls_by_tool: { Bash: 3, Read: 1 },
      tool_failures_by_tool: { Read: 1 },
      sessions: { started_total: 1, ended_total: 1, active: 3 },
      subagents: { started_total: 1, stopped_total: 1 },
      prompts_total: 1,
      notifications_by_type: { permission_prompt: 1 },
      compactions_total: 1,
      stop_failures_by_error: {},
      decisions_by_kind: {},
      last_event_at: '2026-11-25T16:15:30.198Z',
      websocket: { state: 'connected', reconnects_total: 1, last_connected_at: new Date(AFTER_FIXTURES + 1000).toISOString() },
    });
    expect(harness.healthDetails()).toMatchObject({ state: 'connected', reconnects_total: 1, database_resets_total: 0 });
    expect(harness.healthDetails().last_event_at).toEqual(expect.any(String));

    harness.clock.advance(3600 * 1000); // session_ttl_s later every session has gone quiet
    expect((await samples(harness.registry)).get('claude_bridge_sessions_active')).toBe(0);
  });

  it('counts history only from the first connect on, fills a gap beyond the replay window, and notices a database reset', async () => {
    server.stored = [event(1, 'SessionStart'), event(2, 'UserPromptSubmit'), event(3, 'Stop')];
    harness = hooksHarness(configFor(server));
    await harness.component.start!();
    await waitFor(connected, 'connection');
    for (const id of [4, 5]) {
      const e = event(id, 'PreToolUse', { tool_name: 'Read', tool_use_id: `t${id}` });
      server.stored.push(e);
      await server.sendEvent(e);
    }
    await waitFor(async () => (await total()) === 2, 'two live events after the baseline');
    expect(server.recentRequests).toEqual([]); // the first connect needs no gap fill

    // While the bridge is away 310 events arrive; id 12 carries an old client timestamp, so
    // the 300-event replay (newest by timestamp) leaves out ids 1..15 and only the gap fill has 6..15.
    for (let id = 6; id <= 315; id++) {
      const toolUseId = id <= 7 ? `t${id - 2}` : `t${id}`; // 6 and 7 complete the calls 4 and 5
      server.stored.push(event(id, 'PostToolUse', { tool_name: 'Read', tool_use_id: toolUseId }));
    }
    server.stored.find((e) => e.id === 12)!.timestamp = 1_700_000_000_000;
    const replayIds = initialFrameOf(server.stored).data.map((e) => e.id);
    expect(Math.min(...replayIds)).toBe(16);
    expect(replayIds).not.toContain(12);
    let openGate!: () => void;
    server.recentGate = new Promise((resolve) => (openGate = resolve));
    await reconnect(2);
    // Live events during the gap fill wait for it; one is also in the stored rows.
    const live = event(316, 'Notification', { notification_type: 'idle_prompt' });
    server.stored.push(live);
    await server.sendEvent(live);
    await server.sendEvent({ ...server.stored.find((e) => e.id === 300)!, humanInTheLoopStatus: { status: 'responded' } });
    await waitFor(() => server.recentRequests.length === 1, 'the gap fill request');
    expect(await total()).toBe(2);
    openGate();
    await waitFor(async () => (await total()) === 2 + 311, 'the gap fill');
    expect(await duplicates()).toBe(1); // the re-broadcast of id 300, not the rows that also came live
    expect((await harness.summary()).notifications_by_type).toEqual({ idle_prompt: 1 });
    expect((await harness.summary()).tool_duration_seconds).toEqual({ count: 2, sum: 4 }); // paired across the gap, in id order

    // The server comes back with an empty, then fresh database: ids start over.
    server.recentGate = null;
    server.stored = [event(1, 'SessionStart', {}, { session_id: 'sess-b' }), event(2, 'UserPromptSubmit', {}, { session_id: 'sess-b' })];
    await reconnect(3);
    await waitFor(async () => (await total()) === 315, 'the new database to be counted');
    expect(harness.healthDetails().database_resets_total).toBe(1);
    await server.sendEvent(event(3, 'Stop', {}, { session_id: 'sess-b' }));
    await waitFor(async () => (await total()) === 316, 'live events of the new database');
    expect(await duplicates()).toBe(1);
    expect((await harness.summary()).sessions.started_total).toBe(1);
  });

  it('counts what the replay holds when no larger window can be had (GET /events/recent failing)', async () => {
    server.stored = [event(1, 'SessionStart')];
    harness = hooksHarness(configFor(server));
    await harness.component.start!();
    await waitFor(connected, 'connection');
    server.recentStatus = 500;
    // 400 events while the bridge is away: the replay (newest 300) no longer reaches the last counted one.
    for (let id = 2; id <= 401; id++) server.stored.push(event(id, id % 2 ? 'Stop' : 'UserPromptSubmit'));
    await reconnect(2);
    await waitFor(async () => (await total()) === 300, 'the replayed events 102..401');
    expect(server.recentRequests).toEqual(['?limit=1200']);
    expect(await duplicates()).toBe(0);
    expect((await harness.summary()).events_by_type).toEqual({ UserPromptSubmit: 150, Stop: 150 });
    expect(harness.healthDetails().catch_up).toMatchObject({ capped_total: 0, last: { windows: [1200], counted: 300, error: 'HTTP 500' } });
  });

  it('counts, logs and skips malformed frames without dropping the connection', async () => {
    harness = hooksHarness(configFor(server));
    await harness.component.start!();
    await waitFor(connected, 'connection');
    const bad = [
      'not json',
      '{"data":[]}',
      '{"type":"event","data":{"id":1}}',
      JSON.stringify({ type: 'event', data: { ...event(1, 'Stop'), id: undefined } }),
      JSON.stringify({ type: 'event', data: { ...event(1, 'Stop'), payload: 'text' } }),
      '{"type":"initial","data":"nope"}',
    ];
    for (const frame of bad) await server.send(frame);
    await server.send('{"type":"theme_update","data":{}}'); // an unknown frame type is ignored, not malformed
    await server.sendEvent(event(1, 'Stop'));
    await waitFor(async () => (await total()) === 1, 'the valid event after the bad frames');
    expect((await samples(harness.registry)).get(sampleKey('claude_bridge_hook_events_malformed_total', { transport: 'websocket' }))).toBe(
      bad.length,
    );
    expect((await harness.summary()).malformed_total).toBe(bad.length);
    expect(connected()).toBe(true);
    expect(server.connections).toBe(1);
  });

  it('accepts multi-megabyte frames; one above max_frame_bytes closes the socket (1009), and its event is counted after the reconnect', async () => {
    harness = hooksHarness(configFor(server, { max_frame_bytes: 8 * 1024 * 1024 }));
    await harness.component.start!();
    await waitFor(connected, 'connection');
    const chat = Array.from({ length: 5000 }, (_, i) => ({ type: 'assistant', message: { content: 'x'.repeat(1000), i } }));
    const stop = event(1, 'Stop', {}, { chat });
    server.stored.push(stop);
    await server.sendEvent(stop);
    await waitFor(async () => (await total()) === 1, 'a 5 MB Stop event');

    const tooLarge = event(2, 'Stop', {}, { chat: [...chat, ...chat] });
    server.stored.push(tooLarge);
    await server.sendEvent(tooLarge).catch(() => undefined);
    await waitFor(() => harness.websocketState() === 'disconnected', 'the oversized frame to close the socket');
    expect(harness.component.health![0]!.status()).toMatchObject({ up: false, last_error: expect.stringMatching(/1009|payload/i) });
    expect(await total()).toBe(1);

    // The next replay holds both (10 MB and more, streamed past max_frame_bytes): event 2 is counted from it, once.
    harness.clock.advance(1000);
    await waitFor(async () => server.connections === 2 && connected() && (await total()) === 2, 'the reconnect and the catch-up');
    expect(await duplicates()).toBe(1); // event 1 in the replay
    expect(server.connections).toBe(2);
  });

  it('stays disabled when hooks_server.enabled is false', async () => {
    harness = hooksHarness(testConfig({ hooks_server: { enabled: false, url: server.url } }));
    await harness.component.start!();
    expect(harness.clock.pendingTimers()).toBe(0); // no connect, no reconnect scheduled
    expect(harness.websocketState()).toBe('disabled');
    expect((await harness.summary()).websocket).toEqual({ state: 'disabled', reconnects_total: 0, last_connected_at: null });
    expect(server.connections).toBe(0);
    expect(harness.component.health![0]!.status()).toMatchObject({ enabled: false, up: false });
    expect((await samples(harness.registry)).get('claude_bridge_hooks_websocket_connected')).toBe(0);
  });

  it('stops cleanly: no reconnect after stop()', async () => {
    harness = hooksHarness(configFor(server));
    await harness.component.start!();
    await waitFor(connected, 'connection');
    await harness.component.stop!();
    await waitFor(() => server.openConnections === 0, 'the socket to close');
    expect(harness.clock.pendingTimers()).toBe(0);
    expect(harness.websocketState()).toBe('disconnected');
  });
});

describe('reconnect backoff', () => {
  let refuser: Server;
  let attempts: number;

  beforeEach(async () => {
    attempts = 0;
    refuser = createServer((socket) => {
      attempts += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => refuser.close(() => resolve()));
  });

  function client(random: () => number) {
    const port = (refuser.address() as AddressInfo).port;
    const config = testConfig({ hooks_server: { url: `ws://127.0.0.1:${port}/stream`, reconnect_initial_ms: 1000, reconnect_max_ms: 8000 } });
    const clock = new ManualClock(AFTER_FIXTURES);
    const registry = new Registry();
    const activity = new HookActivity(registry, clock, config.hooks);
    const sink = new HookEventSink(activity, { rateLimitHit: () => undefined }, clock);
    const ws = new HooksServerSource({ config: config.hooks_server, stateDir: tempStateDir(), registry, clock, logger: silentLogger, activity, sink, random });
    return { ws, clock, registry };
  }

  async function attemptAfter(clock: ManualClock, errorsBefore: () => Promise<number>, delayMs: number): Promise<void> {
    const errors = await errorsBefore();
    const before = attempts;
    const timers = clock.pendingTimers();
    clock.advance(delayMs - 1);
    expect(clock.pendingTimers()).toBe(timers); // the reconnect timer has not fired: no attempt can start
    expect(attempts).toBe(before);
    clock.advance(1);
    await waitFor(async () => attempts === before + 1 && (await errorsBefore()) === errors + 1, `an attempt after ${delayMs} ms`);
  }

  it('doubles the delay from reconnect_initial_ms up to reconnect_max_ms, with jitter, on the injected clock', async () => {
    const { ws, clock, registry } = client(() => 1);
    const errors = async () => (await samples(registry)).get(sampleKey('claude_bridge_source_errors_total', { source: 'hooks_server' })) ?? 0;
    ws.start();
    await waitFor(async () => attempts === 1 && (await errors()) === 1, 'the first attempt');
    expect(ws.state).toBe('disconnected');
    for (const delay of [1000, 2000, 4000, 8000, 8000]) await attemptAfter(clock, errors, delay);
    expect(ws.health.status()).toMatchObject({ up: false, last_error: expect.stringContaining('cannot connect') });
    expect((await samples(registry)).get('claude_bridge_hooks_websocket_reconnects_total')).toBe(0);
    ws.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('jitter keeps at least half of each delay', async () => {
    const { ws, clock, registry } = client(() => 0);
    const errors = async () => (await samples(registry)).get(sampleKey('claude_bridge_source_errors_total', { source: 'hooks_server' })) ?? 0;
    ws.start();
    await waitFor(async () => (await errors()) === 1, 'the first attempt');
    for (const delay of [500, 1000, 2000]) await attemptAfter(clock, errors, delay);
    ws.stop();
  });
});

describe('recentEventsUrl', () => {
  it('derives the catch-up window URL from the stream URL', () => {
    expect(recentEventsUrl('ws://localhost:4000/stream', 1200)).toBe('http://localhost:4000/events/recent?limit=1200');
    expect(recentEventsUrl('wss://obs.example/hooks/stream', 300)).toBe('https://obs.example/hooks/events/recent?limit=300');
    expect(recentEventsUrl('ws://127.0.0.1:4000/', 4800)).toBe('http://127.0.0.1:4000/events/recent?limit=4800');
  });
});
