import { Counter, Registry } from 'prom-client';
import { HOOK_DECISIONS_METRIC } from '../../src/metrics/registry.js';
import { HookActivity } from '../../src/sources/hooks/activity.js';
import type { ActivityEvent } from '../../src/sources/hooks/event.js';
import { parseHookEvent, toActivityEvent } from '../../src/sources/hooks/event.js';
import { toolFamily } from '../../src/sources/hooks/labels.js';
import { testConfig } from '../support/config.js';
import { readFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { family, samples, sampleKey } from './support/metrics.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

function setup(hooks: NonNullable<Parameters<typeof testConfig>[0]>['hooks'] = {}) {
  const registry = new Registry();
  const clock = new ManualClock(NOW);
  const activity = new HookActivity(registry, clock, testConfig({ hooks }).hooks);
  const record = (e: Partial<ActivityEvent> & { type: string }) =>
    activity.record({ sourceApp: 'app', sessionId: 's1', time: null, ...e });
  return { registry, clock, activity, record };
}

describe('hook activity metrics', () => {
  it('reads per-type facts from payload, not from the top-level copies of live frames', () => {
    const frames = readFixture('hooks-server', 'ws-frames.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const failure = frames.find((f) => f.data?.hook_event_type === 'PostToolUseFailure').data;
    const parsed = parseHookEvent({ ...failure, tool_name: 'Top-level copy' });
    expect(parsed.ok && toActivityEvent(parsed.value)).toEqual({
      id: 8,
      type: 'PostToolUseFailure',
      sourceApp: 'cc-hook-multi-agent-obvs',
      sessionId: '7f3c2a91-5d4e-4b8a-9c1f-2e6d8a0b4c3e',
      time: 1795623310151,
      toolName: 'Read',
      toolUseId: 'toolu_02AbC',
    });
  });

  it('bounds tool labels: MCP tools by server, overflow into "other"', async () => {
    const { registry, record } = setup({ max_tool_labels: 3 });
    for (const tool of ['Bash', 'mcp__github__create_issue', 'mcp__github__list_prs', 'Read', 'Edit', 'Write', 'Bash']) {
      record({ type: 'PreToolUse', toolName: tool });
    }
    record({ type: 'PostToolUseFailure', toolName: 'Grep' });
    expect(await family(registry, 'claude_bridge_tool_calls_total')).toEqual({
      [sampleKey('claude_bridge_tool_calls_total', { tool: 'Bash' })]: 2,
      [sampleKey('claude_bridge_tool_calls_total', { tool: 'mcp__github' })]: 2,
      [sampleKey('claude_bridge_tool_calls_total', { tool: 'Read' })]: 1,
      [sampleKey('claude_bridge_tool_calls_total', { tool: 'other' })]: 2,
    });
    expect(await family(registry, 'claude_bridge_tool_failures_total')).toEqual({
      [sampleKey('claude_bridge_tool_failures_total', { tool: 'other' })]: 1,
    });
    expect(toolFamily('mcp__plugin_x_server__do')).toBe('mcp__plugin_x_server');
    expect(toolFamily('mcp__')).toBe('mcp__');
  });

  it('bounds source_app labels, also on the last-event gauge', async () => {
    const { registry, record } = setup({ max_source_labels: 2 });
    for (const app of ['a', 'b', 'c', 'd']) record({ type: 'Stop', sourceApp: app, time: NOW - 1000 });
    expect(Object.keys(await family(registry, 'claude_bridge_last_event_timestamp_seconds'))).toEqual([
      sampleKey('claude_bridge_last_event_timestamp_seconds', { source_app: 'a' }),
      sampleKey('claude_bridge_last_event_timestamp_seconds', { source_app: 'b' }),
      sampleKey('claude_bridge_last_event_timestamp_seconds', { source_app: 'other' }),
    ]);
    expect((await samples(registry)).get(sampleKey('claude_bridge_hook_events_total', { event: 'Stop', source_app: 'other' }))).toBe(2);
  });

  it('pairs tool calls by tool_use_id with a bounded pending map', async () => {
    const { registry, record, clock } = setup({ max_pending_tools: 2 });
    record({ type: 'PreToolUse', toolName: 'Bash', toolUseId: 'a' });
    record({ type: 'PreToolUse', toolName: 'Bash', toolUseId: 'b' });
    record({ type: 'PreToolUse', toolName: 'Bash', toolUseId: 'c' }); // evicts a
    clock.advance(1500);
    for (const id of ['a', 'b', 'c']) record({ type: 'PostToolUse', toolName: 'Bash', toolUseId: id });
    const m = await samples(registry);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_count', { tool: 'Bash' }))).toBe(2);
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_sum', { tool: 'Bash' }))).toBe(3);
    record({ type: 'PostToolUse', toolName: 'Bash', toolUseId: 'c' }); // already finished: no observation
    record({ type: 'PostToolUse', toolName: 'Bash', toolUseId: 'never-started' });
    record({ type: 'PostToolUse', toolName: 'Bash' }); // no tool_use_id, no duration_ms
    expect((await samples(registry)).get(sampleKey('claude_bridge_tool_duration_seconds_count', { tool: 'Bash' }))).toBe(2);
  });

  it('counts sessions active within the TTL; SessionEnd ends them, stragglers do not revive them', async () => {
    const { registry, record, clock, activity } = setup({ session_ttl_s: 600 });
    const active = async () => (await samples(registry)).get('claude_bridge_sessions_active');
    record({ type: 'SessionStart', sessionId: 'a' });
    record({ type: 'UserPromptSubmit', sessionId: 'b' }); // no SessionStart seen: still active
    record({ type: 'Stop', sessionId: 'c', time: NOW - 601_000 }); // already quiet for longer than the TTL
    expect(await active()).toBe(2);
    record({ type: 'SessionEnd', sessionId: 'a' });
    record({ type: 'Stop', sessionId: 'a' });
    expect(await active()).toBe(1);
    clock.advance(599_000);
    record({ type: 'Notification', sessionId: 'b', notificationType: 'idle_prompt' });
    clock.advance(2000);
    expect(await active()).toBe(1);
    clock.advance(600_000);
    expect(await active()).toBe(0);
    record({ type: 'SessionStart', sessionId: 'a' }); // resumed
    expect((await activity.summary()).sessions).toEqual({ started_total: 2, ended_total: 1, active: 1 });
  });

  it('counts the remaining event kinds by their bounded labels', async () => {
    const { registry, record, activity } = setup();
    record({ type: 'PreCompact', trigger: 'auto' });
    record({ type: 'PreCompact' });
    record({ type: 'StopFailure', error: 'rate_limit' });
    record({ type: 'SubagentStart' });
    record({ type: 'SubagentStop' });
    record({ type: 'Notification' });
    // The decision routes (src/http/routes-hooks.ts) own this counter; the summary reads it back.
    new Counter({ name: HOOK_DECISIONS_METRIC, help: 'decisions', labelNames: ['event', 'decision'], registers: [registry] }).inc({ event: 'PreToolUse', decision: 'deny' });
    activity.recordDuplicate();
    activity.recordMalformed('http');
    expect(await family(registry, 'claude_bridge_compactions_total')).toEqual({
      [sampleKey('claude_bridge_compactions_total', { trigger: 'auto' })]: 1,
      [sampleKey('claude_bridge_compactions_total', { trigger: 'unknown' })]: 1,
    });
    expect(await activity.summary()).toMatchObject({
      events_total: 6,
      events_by_type: { PreCompact: 2, StopFailure: 1, SubagentStart: 1, SubagentStop: 1, Notification: 1 },
      notifications_by_type: { unknown: 1 },
      stop_failures_by_error: { rate_limit: 1 },
      subagents: { started_total: 1, stopped_total: 1 },
      decisions_by_kind: { deny: 1 },
      duplicates_dropped_total: 1,
      malformed_total: 1,
      compactions_total: 2,
      last_event_at: new Date(NOW).toISOString(),
    });
  });

  it('registers on the registry it is given, never the global one', async () => {
    const { register } = await import('prom-client');
    const before = (await register.getMetricsAsJSON()).length;
    setup();
    setup(); // a second bridge in the same process does not collide
    expect((await register.getMetricsAsJSON()).length).toBe(before);
  });
});
