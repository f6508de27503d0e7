import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { itWithBinaries } from '../support/binaries.js';
import { testConfig } from '../support/config.js';
import { fixturePath, readJsonFixture, readJsonLinesFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { AFTER_FIXTURES, tempStateDir } from './support/harness.js';
import { family, samples, sampleKey, waitFor } from './support/metrics.js';

type HookInput = Record<string, unknown> & { hook_event_name: string };
type PostRecord = { method: string; path: string; user_agent: string; body: Record<string, unknown> };

const HOOK_INPUT_FILES = readdirSync(fixturePath('claude-code', 'http-hook-inputs')).filter((f) => f.endsWith('.json')).sort();
const hookInput = (file: string) => readJsonFixture<HookInput>('claude-code', 'http-hook-inputs', file);
const POST_RECORDS = readJsonLinesFixture<PostRecord>('hooks-server', 'send_event-post-bodies.jsonl');

const RESUME_AT = '2026-11-25T17:00:00.000Z';
const PAUSE_REASON =
  `Claude Code is paused by the monitoring bridge (time_limit) until ${RESUME_AT}, when the usage window resets. ` +
  'To resume earlier: POST /recovery/resume on the bridge.';
const BUDGET_CONTEXT =
  'Budget mode: the cost threshold was reached. Prefer cheap, focused work: avoid subagents and web access, keep answers short.';

/** The exact answer Claude Code gets per fixture event and recovery state (backoff answers after its hold). */
const EXPECTED: Record<string, Record<string, unknown>> = {
  normal: {},
  backoff: {},
  paused: {
    PreToolUse: { continue: false, stopReason: PAUSE_REASON, hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: PAUSE_REASON } },
    UserPromptSubmit: { decision: 'block', reason: PAUSE_REASON },
  },
  degraded: {
    PreToolUse: { hookSpecificOutput: { hookEventName: 'PreToolUse', additionalContext: BUDGET_CONTEXT } },
    UserPromptSubmit: { hookSpecificOutput: { hookEventName: 'UserPromptSubmit', additionalContext: BUDGET_CONTEXT } },
  },
};
const HELD_EVENTS = new Set(['PreToolUse', 'UserPromptSubmit']);
const MAX_HOLD_MS: Record<string, number> = { PreToolUse: 50_000, UserPromptSubmit: 25_000 };

/** The current backoff delay (it escalates while the alert stays active), capped per event. */
function expectedHold(api: RunningBridge, event: string): number {
  return Math.min(api.bridge.controller.snapshot().backoff.delayMs, MAX_HOLD_MS[event]!);
}

async function startHooksBridge(clock: ManualClock, overrides: Parameters<typeof testConfig>[0] = {}): Promise<RunningBridge> {
  const config = testConfig({ ...overrides, hooks_server: { enabled: false, ...overrides.hooks_server } });
  return startBridge({ config, clock, components: [hooksComponent] });
}

function enterState(api: RunningBridge, clock: ManualClock, state: string): void {
  const controller = api.bridge.controller;
  if (state === 'backoff') controller.fire({ type: 'rate_limit', origin: 'manual' });
  if (state === 'paused') controller.fire({ type: 'time_limit', origin: 'manual', resetsAt: Date.parse(RESUME_AT) });
  if (state === 'degraded') controller.fire({ type: 'cost_threshold', origin: 'manual' });
  expect(controller.snapshot().state).toBe(state);
  expect(clock.now()).toBe(AFTER_FIXTURES);
}

/** Posts and, when the bridge holds the answer, checks it is held exactly `holdMs` on the clock. */
async function postHook(api: RunningBridge, clock: ManualClock, path: string, input: unknown, holdMs = 0) {
  if (holdMs === 0) return api.post(path, input);
  const timersBefore = clock.pendingTimers();
  let settled = false;
  const pending = api.post(path, input).finally(() => (settled = true));
  await waitFor(() => clock.pendingTimers() > timersBefore, 'the hold to start');
  clock.advance(holdMs - 1);
  expect(clock.pendingTimers()).toBeGreaterThan(timersBefore); // the hold's timer has not fired
  await api.get('/health'); // a round trip on the same server: an answer sent already would be in by now
  expect(settled).toBe(false);
  clock.advance(1);
  return pending;
}

describe('Claude Code HTTP hooks answered with recovery decisions', () => {
  let api: RunningBridge;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(AFTER_FIXTURES);
    api = await startHooksBridge(clock);
  });
  afterEach(async () => {
    await api.stop();
  });

  it('has every recorded hook input to test', () => {
    expect(HOOK_INPUT_FILES).toEqual([
      'PostToolUse.json',
      'PreToolUse.json',
      'SessionEnd-2.json',
      'SessionEnd.json',
      'Stop.json',
      'StopFailure.json',
      'UserPromptSubmit-2.json',
      'UserPromptSubmit.json',
    ]);
  });

  for (const state of ['normal', 'backoff', 'paused', 'degraded']) {
    it(`answers every fixture while ${state}, on /hooks/:event and on /hooks`, async () => {
      enterState(api, clock, state);
      // StopFailure last: its rate_limit signal changes the state.
      const files = [...HOOK_INPUT_FILES.filter((f) => f !== 'StopFailure.json'), 'StopFailure.json'];
      for (const file of files) {
        const input = hookInput(file);
        const event = input.hook_event_name;
        const expected = EXPECTED[state]![event] ?? {};
        for (const path of [`/hooks/${event}`, '/hooks']) {
          const holdMs = state === 'backoff' && HELD_EVENTS.has(event) ? expectedHold(api, event) : 0;
          const response = await postHook(api, clock, path, input, holdMs);
          expect({ file, path, status: response.status, body: response.body }).toEqual({ file, path, status: 200, body: expected });
        }
      }
    });
  }

  it('denies a restricted tool in budget mode with the reason', async () => {
    enterState(api, clock, 'degraded');
    const response = await api.post('/hooks/PreToolUse', { ...hookInput('PreToolUse.json'), tool_name: 'WebFetch' });
    expect(response.body).toEqual({
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision: 'deny',
        permissionDecisionReason:
          'Budget mode: the tool "WebFetch" is restricted because the cost threshold was reached ' +
          '(restricted: Task, Agent, WebSearch, WebFetch). Continue with cheaper tools.',
      },
    });
  });

  it('a StopFailure rate_limit puts the bridge in backoff until signal_ttl_s passes; its answer is {}', async () => {
    const response = await api.post('/hooks/StopFailure', hookInput('StopFailure.json'));
    expect(response).toMatchObject({ status: 200, body: {} });
    const status = (await api.get('/recovery/status')).body;
    expect(status).toMatchObject({
      state: 'backoff',
      active_alerts: [
        {
          alert: 'rate_limit',
          origins: [{ origin: 'hook', key: '73fc71b9-34f8-4ee9-b426-3096ea255e06', expires_at: new Date(AFTER_FIXTURES + 120_000).toISOString() }],
        },
      ],
      backoff: { attempt: 1, delay_ms: 1000 },
    });
    const m = await samples(api.bridge.registry);
    expect(m.get(sampleKey('claude_bridge_stop_failures_total', { error: 'rate_limit' }))).toBe(1);
    expect(m.get(sampleKey('claude_bridge_alerts_fired_total', { alert: 'rate_limit', origin: 'hook' }))).toBe(1);
    clock.advance(120_000);
    expect(api.bridge.controller.snapshot().state).toBe('normal');
  });

  it('the same rate-limited prompt seen over HTTP and over POST /events escalates the backoff once', async () => {
    const input = hookInput('StopFailure.json');
    await api.post('/hooks/StopFailure', input);
    await api.post('/hooks', input);
    await api.post('/events', {
      source_app: 'cc-hook-multi-agent-obvs',
      session_id: input.session_id,
      hook_event_type: 'StopFailure',
      payload: input,
      timestamp: clock.now(),
    });
    expect(api.bridge.controller.snapshot().backoff).toMatchObject({ attempt: 1, delayMs: 1000 });
    // Another prompt's failure while the hold runs is the same limit seen again: it joins.
    await api.post('/hooks/StopFailure', { ...input, prompt_id: 'another-prompt' });
    expect(api.bridge.controller.snapshot().backoff).toMatchObject({ attempt: 1, delayMs: 1000 });
  });

  it('reports from many sessions on the open endpoint neither escalate nor grow the state without bound', async () => {
    const input = hookInput('StopFailure.json');
    for (let i = 0; i < 200; i += 1) {
      await api.post('/hooks/StopFailure', { ...input, session_id: `s${i}-${'x'.repeat(i % 2 ? 10_000 : 1)}`, prompt_id: `p${i}` });
    }
    const snapshot = api.bridge.controller.snapshot();
    expect(snapshot.backoff).toMatchObject({ attempt: 1, delayMs: 1000 });
    const origins = snapshot.activeAlerts.find((a) => a.type === 'rate_limit')!.origins;
    expect(origins.length).toBe(64);
    expect(Math.max(...origins.map((o) => o.key.length))).toBeLessThanOrEqual(128);
    expect(JSON.stringify((await api.get('/recovery/status')).body).length).toBeLessThan(64 * 1024);
  });

  it('other StopFailure errors are counted but change nothing', async () => {
    for (const error of ['overloaded', 'server_error', 'overloaded']) {
      expect((await api.post('/hooks', { ...hookInput('StopFailure.json'), error })).body).toEqual({});
    }
    expect(api.bridge.controller.snapshot().state).toBe('normal');
    expect(await family(api.bridge.registry, 'claude_bridge_stop_failures_total')).toEqual({
      [sampleKey('claude_bridge_stop_failures_total', { error: 'overloaded' })]: 2,
      [sampleKey('claude_bridge_stop_failures_total', { error: 'server_error' })]: 1,
    });
  });

  it('holds no longer than hooks.max_hold_ms, and stops holding when Claude Code hangs up', async () => {
    await api.stop();
    api = await startHooksBridge(clock, { hooks: { max_hold_ms: { UserPromptSubmit: 400 } } });
    api.bridge.controller.fire({ type: 'rate_limit', origin: 'manual' });
    expect((await postHook(api, clock, '/hooks/UserPromptSubmit', hookInput('UserPromptSubmit.json'), 400)).body).toEqual({});

    const timersBefore = clock.pendingTimers();
    // Claude Code's hook timeout closes the connection; a request of its own, off any shared pool.
    const request = httpRequest(`${api.url}/hooks/PreToolUse`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
    const outcome = new Promise<string>((resolve) => request.on('error', (error) => resolve(error.message)));
    request.end(JSON.stringify(hookInput('PreToolUse.json')));
    await waitFor(() => clock.pendingTimers() > timersBefore, 'the hold to start');
    request.destroy(new Error('hook timed out'));
    expect(await outcome).toBe('hook timed out');
    await waitFor(() => clock.pendingTimers() === timersBefore, 'the hold to be released');
    expect(await family(api.bridge.registry, 'claude_bridge_hook_decisions_total')).toEqual({
      [sampleKey('claude_bridge_hook_decisions_total', { event: 'UserPromptSubmit', decision: 'delay' })]: 1,
      [sampleKey('claude_bridge_hook_decisions_total', { event: 'PreToolUse', decision: 'delay' })]: 1,
    });
  });

  it('a pause that begins during a hold denies when the hold ends', async () => {
    api.bridge.controller.fire({ type: 'rate_limit', origin: 'manual' });
    const timersBefore = clock.pendingTimers();
    const pending = api.post('/hooks/PreToolUse', hookInput('PreToolUse.json'));
    await waitFor(() => clock.pendingTimers() > timersBefore, 'the hold to start');
    api.bridge.controller.fire({ type: 'time_limit', origin: 'manual', resetsAt: Date.parse(RESUME_AT) });
    clock.advance(1000);
    expect((await pending).body).toEqual(EXPECTED.paused!.PreToolUse);
  });

  it('records hook inputs as events and counts decisions', async () => {
    enterState(api, clock, 'paused');
    await api.post('/hooks/UserPromptSubmit', hookInput('UserPromptSubmit.json'));
    await api.post('/hooks/PreToolUse?source_app=laptop', hookInput('PreToolUse.json'));
    await api.post('/hooks/PostToolUse', hookInput('PostToolUse.json'));
    await api.post('/hooks/SessionEnd', hookInput('SessionEnd.json'));
    const m = await samples(api.bridge.registry);
    expect(await family(api.bridge.registry, 'claude_bridge_hook_events_total')).toEqual({
      [sampleKey('claude_bridge_hook_events_total', { event: 'UserPromptSubmit', source_app: 'claude-code' })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PreToolUse', source_app: 'laptop' })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'PostToolUse', source_app: 'claude-code' })]: 1,
      [sampleKey('claude_bridge_hook_events_total', { event: 'SessionEnd', source_app: 'claude-code' })]: 1,
    });
    expect(await family(api.bridge.registry, 'claude_bridge_hook_decisions_total')).toEqual({
      [sampleKey('claude_bridge_hook_decisions_total', { event: 'UserPromptSubmit', decision: 'block' })]: 1,
      [sampleKey('claude_bridge_hook_decisions_total', { event: 'PreToolUse', decision: 'deny' })]: 1,
      [sampleKey('claude_bridge_hook_decisions_total', { event: 'PostToolUse', decision: 'allow' })]: 1,
      [sampleKey('claude_bridge_hook_decisions_total', { event: 'SessionEnd', decision: 'allow' })]: 1,
    });
    // Claude Code measured the call itself (duration_ms: 38).
    expect(m.get(sampleKey('claude_bridge_tool_duration_seconds_sum', { tool: 'Bash' }))).toBeCloseTo(0.038, 6);
    expect(m.get('claude_bridge_sessions_ended_total')).toBe(1);
    expect(m.get('claude_bridge_prompts_total')).toBe(1);
    const { hooks_data } = (await api.get('/metrics')).body;
    expect(hooks_data).toMatchObject({
      events_total: 4,
      decisions_by_kind: { block: 1, deny: 1, allow: 2 },
      last_event_at: new Date(AFTER_FIXTURES).toISOString(),
      websocket: { state: 'disabled', reconnects_total: 0, last_connected_at: null },
    });
  });

  it('refuses malformed hook inputs with 4xx JSON and counts them', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/hooks/PreToolUse', '{"session_id":', /^invalid JSON body/],
      ['/hooks/PreToolUse', [1, 2], /must be a JSON object/],
      ['/hooks', { session_id: 'x' }, /hook_event_name is missing/],
      ['/hooks/PreToolUse', { ...hookInput('Stop.json') }, /names the hook event "PreToolUse".*"Stop"/],
      ['/hooks/Pre%20Tool', { session_id: 'x' }, /is not a hook event name/],
    ];
    for (const [path, body, message] of cases) {
      const response = await api.post(path, body);
      expect({ path, status: response.status, error: response.body?.error }).toEqual({ path, status: 400, error: expect.stringMatching(message) });
    }
    expect((await samples(api.bridge.registry)).get(sampleKey('claude_bridge_hook_events_malformed_total', { transport: 'http' }))).toBe(
      cases.length,
    );
  });
});

describe('POST /events: a drop-in for the hooks server', () => {
  let api: RunningBridge;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(AFTER_FIXTURES);
    api = await startHooksBridge(clock);
  });
  afterEach(async () => {
    await api.stop();
  });

  it('accepts every body send_event.py posts and answers the stored event with its id', async () => {
    expect(POST_RECORDS).toHaveLength(14);
    for (const [index, record] of POST_RECORDS.entries()) {
      const response = await api.post(record.path, record.body, { 'user-agent': record.user_agent });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ...record.body, id: index + 1 });
    }
    const byType = await family(api.bridge.registry, 'claude_bridge_hook_events_total');
    const key = (event: string, source_app = 'cc-hook-multi-agent-obvs') => sampleKey('claude_bridge_hook_events_total', { event, source_app });
    expect(byType).toEqual({
      [key('SessionStart')]: 1,
      [key('UserPromptSubmit')]: 1,
      [key('PreToolUse')]: 2,
      [key('PermissionRequest')]: 1,
      [key('Notification')]: 1,
      [key('PostToolUse')]: 1,
      [key('PostToolUseFailure')]: 1,
      [key('SubagentStart')]: 1,
      [key('SubagentStop')]: 1,
      [key('PreCompact')]: 1,
      [key('Stop')]: 1,
      [key('SessionEnd')]: 1,
      [key('PreToolUse', 'demo-agent')]: 1,
    });
    const { hooks_data } = (await api.get('/metrics')).body;
    expect(hooks_data).toMatchObject({
      events_total: 14,
      tool_calls_by_tool: { Bash: 2, Read: 1 },
      tool_failures_by_tool: { Read: 1 },
      tool_duration_seconds: { count: 2 },
      sessions: { started_total: 1, ended_total: 1, active: 0 },
      notifications_by_type: { permission_prompt: 1 },
      compactions_total: 1,
      malformed_total: 0,
    });
  });

  it('answers 400 {"error":"Missing required fields"} like the hooks server', async () => {
    const body = POST_RECORDS[1]!.body;
    for (const field of ['source_app', 'session_id', 'hook_event_type', 'payload']) {
      const { [field]: _dropped, ...missing } = body;
      for (const variant of [missing, { ...body, [field]: '' }]) {
        const response = await api.post('/events', variant);
        expect({ field, status: response.status, body: response.body }).toEqual({ field, status: 400, body: { error: 'Missing required fields' } });
      }
    }
    expect((await api.post('/events', '{broken')).status).toBe(400);
    expect((await api.post('/events', { ...body, payload: 'text' })).body).toEqual({ error: expect.stringMatching(/^Invalid event: payload/) });
    expect((await samples(api.bridge.registry)).get(sampleKey('claude_bridge_hook_events_malformed_total', { transport: 'http' }))).toBe(10);
    expect((await api.get('/metrics')).body.hooks_data.events_total).toBe(0);
  });

  it('stamps events without a timestamp and marks a human-in-the-loop question pending, like the server', async () => {
    const question = { source_app: 'app', session_id: 's1', hook_event_type: 'HumanInTheLoop', payload: {}, humanInTheLoop: { question: 'ok?' } };
    expect((await api.post('/events', question)).body).toEqual({
      ...question,
      id: 1,
      timestamp: AFTER_FIXTURES,
      humanInTheLoopStatus: { status: 'pending' },
    });
  });

  it('lists the hook endpoints at GET /', async () => {
    const paths = (await api.get('/')).body.endpoints.map((e: { method: string; path: string }) => `${e.method} ${e.path}`);
    expect(paths).toEqual(expect.arrayContaining(['POST /events', 'POST /hooks/:event', 'POST /hooks']));
  });

  itWithBinaries(['promtool'], 'exports hook metrics that pass promtool check metrics', async () => {
    for (const record of POST_RECORDS) await api.post('/events', record.body);
    await api.post('/hooks/StopFailure', hookInput('StopFailure.json'));
    const { text } = await api.get('/prometheus');
    for (const name of ['claude_bridge_hook_events_total', 'claude_bridge_tool_duration_seconds_bucket', 'claude_bridge_sessions_active']) {
      expect(text).toContain(name);
    }
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the bridge with its hooks server down', () => {
  it('starts, serves hooks, and reports the WebSocket in /health', async () => {
    const clock = new ManualClock(AFTER_FIXTURES);
    const api = await startBridge({
      clock,
      components: [hooksComponent],
      config: testConfig({ hooks_server: { url: 'ws://127.0.0.1:9/stream' }, state: { dir: tempStateDir() } }),
    });
    try {
      await waitFor(async () => (await api.get('/health')).body.sources.hooks_server?.last_error !== null, 'the failed attempt');
      expect((await api.get('/health')).body).toMatchObject({
        status: 'degraded',
        websocket: 'disconnected',
        sources: { hooks_server: { enabled: true, up: false, details: { state: 'disconnected', reconnects_total: 0 } } },
      });
      expect((await api.post('/hooks/PreToolUse', hookInput('PreToolUse.json'))).body).toEqual({});
    } finally {
      await api.stop();
    }
  });
});
