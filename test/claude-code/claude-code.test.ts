import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { describeWithTools } from '../support/binaries.js';
import { freePort, waitFor } from '../support/processes.js';
import { BridgeProcess, seriesKey, type Samples } from './support/bridge-process.js';
import { CLAUDE_CODE_VERSION, claudeCodeTool, killRunningClaude, runClaude, type ClaudeRun } from './support/claude-code.js';
import { DONE_TEXT, MessagesApi, toolResults, type RecordedRequest, type Scenario, type ToolCall } from './support/messages-api.js';
import { bridgeCli, makeScratch, type Scratch } from './support/scratch.js';

/**
 * The real Claude Code CLI (pinned, from the cache folder `npm run install-claude-code` fills)
 * against a stand-in Messages API, with the bridge — a separate process, reached over HTTP only —
 * wired in by its own `claude-bridge install-hooks` in a scratch HOME. Each row sets the bridge's
 * state, runs one `claude -p` session and checks what Claude Code did.
 *
 * The bridge and Claude Code run on the real clock; the tests read instants from `clock`.
 */
const clock: Clock = systemClock;

/** The command prints 42-ran only if it really runs (its input says $((6*7))-ran). */
const RAN = '42-ran';
const bash: ToolCall = { name: 'Bash', input: { command: 'echo $((6*7))-ran', description: 'Print a marker' } };
const webFetch: ToolCall = { name: 'WebFetch', input: { url: 'http://127.0.0.1:9/page', prompt: 'Summarise the page.' } };
const runBash: Scenario = { kind: 'tools', calls: [bash] };

const HOOK_EVENTS_OF_A_TOOL_SESSION = ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd'];

interface Session extends ClaudeRun {
  /** The Messages API requests of this session, in order. */
  requests: RecordedRequest[];
}

describeWithTools([claudeCodeTool()], `the real Claude Code ${CLAUDE_CODE_VERSION} with the bridge`, () => {
  let scratch: Scratch;
  let api: MessagesApi;
  let bridge: BridgeProcess;
  /** The bridge's OTLP receiver, where install-hooks --telemetry points Claude Code's own telemetry. */
  let otlpUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    otlpUrl = `http://127.0.0.1:${await freePort()}`;
    scratch = makeScratch(port, Number(new URL(otlpUrl).port));
    api = new MessagesApi(clock);
    await api.start();
    bridge = new BridgeProcess(`http://127.0.0.1:${port}`, scratch.configFile, scratch.logFile);
    await bridge.start();
  }, 120_000);

  afterEach(killRunningClaude);
  afterAll(async () => {
    killRunningClaude();
    await bridge?.stop();
    await api?.stop();
    scratch?.cleanup();
  });

  async function session(scenario: Scenario, allowedTools = ['Bash']): Promise<Session> {
    api.scenario = scenario;
    const run = await runClaude({
      clock,
      home: scratch.home,
      cwd: scratch.project,
      apiUrl: api.url,
      prompt: 'Please print the marker.',
      allowedTools,
      binDir: scratch.binDir,
    });
    return { ...run, requests: api.forSession(run.result.session_id) };
  }

  /** A session while the bridge process is stopped; it is started again (same port, same state dir) after. */
  async function sessionWithBridgeDown(scenario: Scenario): Promise<Session> {
    await bridge.stop();
    try {
      return await session(scenario);
    } finally {
      await bridge.start();
    }
  }

  /** The request that carried the tool results back to the model. */
  function resultsRequest(s: Session): RecordedRequest {
    const found = s.requests.find((r) => toolResults(r.body).length > 0);
    if (!found) throw new Error(`no request of session ${s.result.session_id} carried tool results`);
    return found;
  }

  async function resume(): Promise<void> {
    expect((await bridge.post('/recovery/resume')).status).toBe(200);
  }

  async function fire(alert: string, body: Record<string, unknown> = {}): Promise<any> {
    const answer = await bridge.post(`/alerts/${alert}`, body);
    expect(answer.status).toBe(200);
    return answer.body.recovery;
  }

  /** Waits until /prometheus shows `expected` (series → value), which the hooks of a session just sent. */
  async function samplesReaching(expected: { name: string; labels?: Record<string, string>; value: number }[]): Promise<Samples> {
    let last: Samples | null = null;
    const show = (value: (e: (typeof expected)[number]) => number | string) =>
      expected.map((e) => `${seriesKey(e.name, e.labels ?? {})} = ${value(e)}`).join(', ');
    return waitFor(
      `/prometheus to show ${show((e) => e.value)}`,
      async () => {
        const samples = await bridge.samples();
        last = samples;
        return expected.every((e) => samples.value(e.name, e.labels) === e.value) ? samples : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 50,
        diagnostics: () => `last seen: ${show((e) => last?.value(e.name, e.labels) ?? 'nothing')}\nbridge log:\n${bridge.logText().slice(-3000)}`,
      },
    );
  }

  /** Waits until the sum over every series of each metric reaches its value (telemetry comes at Claude Code's export intervals). */
  async function sumsReaching(expected: Record<string, number>): Promise<Samples> {
    let last: Samples | null = null;
    const show = (value: (name: string) => number | string) => Object.keys(expected).map((name) => `${name} = ${value(name)}`).join(', ');
    return waitFor(
      `/prometheus to show ${show((name) => expected[name]!)}`,
      async () => {
        const samples = await bridge.samples();
        last = samples;
        return Object.entries(expected).every(([name, value]) => samples.sum(name) >= value) ? samples : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, diagnostics: () => `last seen: ${show((name) => last?.sum(name) ?? 'nothing')}\nbridge log:\n${bridge.logText().slice(-3000)}` },
    );
  }

  const eventCount = (s: Samples, event: string) => s.value('claude_bridge_hook_events_total', { event, source_app: 'claude-code' });
  const decisions = (s: Samples, event: string, decision: string) => s.value('claude_bridge_hook_decisions_total', { event, decision });

  describe('HTTP hooks, installed by claude-bridge install-hooks', () => {
    beforeAll(() => {
      const install = bridgeCli(scratch, ['install-hooks', '--url', bridge.url, '--telemetry', '--telemetry-url', otlpUrl]);
      expect(install).toMatchObject({ status: 0, stderr: '' });
      const settings = JSON.parse(readFileSync(path.join(scratch.claudeDir, 'settings.json'), 'utf8'));
      expect(settings.env).toMatchObject({ CLAUDE_CODE_ENABLE_TELEMETRY: '1', OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl });
      expect(settings.hooks.PreToolUse).toEqual([{ matcher: '*', hooks: [{ type: 'http', url: `${bridge.url}/hooks/PreToolUse`, timeout: 60 }] }]);
      expect(settings.cleanupPeriodDays).toBe(36500); // the user's own setting, kept
    });
    beforeEach(resume);

    it('normal: the tool call runs, nothing is denied, and the session’s events are counted in /prometheus; its own telemetry too', async () => {
      const before = await bridge.samples();
      const apiRequestsBefore = api.requests.length;
      const s = await session(runBash);

      expect(s.result).toMatchObject({ is_error: false, permission_denials: [], result: DONE_TEXT, num_turns: 2 });
      expect(toolResults(resultsRequest(s).body)).toEqual([{ toolUseId: expect.any(String), text: expect.stringContaining(RAN), isError: false }]);
      const after = await samplesReaching([
        ...HOOK_EVENTS_OF_A_TOOL_SESSION.map((event) => ({
          name: 'claude_bridge_hook_events_total',
          labels: { event, source_app: 'claude-code' },
          value: eventCount(before, event) + 1,
        })),
      ]);
      expect(after.value('claude_bridge_tool_calls_total', { tool: 'Bash' })).toBe(before.value('claude_bridge_tool_calls_total', { tool: 'Bash' }) + 1);
      expect(after.value('claude_bridge_prompts_total')).toBe(before.value('claude_bridge_prompts_total') + 1);
      expect(after.value('claude_bridge_sessions_ended_total')).toBe(before.value('claude_bridge_sessions_ended_total') + 1);
      expect(decisions(after, 'PreToolUse', 'allow')).toBe(decisions(before, 'PreToolUse', 'allow') + 1);
      // exactly this session: no event counted twice, none invented
      expect(after.sum('claude_bridge_hook_events_total') - before.sum('claude_bridge_hook_events_total')).toBe(HOOK_EVENTS_OF_A_TOOL_SESSION.length);

      // Claude Code's own telemetry (install-hooks --telemetry): an api_request event for every
      // request the stand-in API answered, and the session's output tokens.
      const answered = api.requests.slice(apiRequestsBefore).filter((r) => r.status === 200);
      const outputTokens = answered.reduce((sum, r) => sum + r.message!.usage.output_tokens, 0);
      const outputOf = (x: Samples) => [...x.values].filter(([key]) => key.startsWith('claude_bridge_otlp_tokens_total{') && key.includes('kind="output"')).reduce((sum, [, v]) => sum + v, 0);
      const telemetry = await sumsReaching({ claude_bridge_otlp_api_requests_total: before.sum('claude_bridge_otlp_api_requests_total') + answered.length });
      expect(telemetry.sum('claude_bridge_otlp_api_requests_total') - before.sum('claude_bridge_otlp_api_requests_total')).toBe(answered.length);
      await waitFor('the session’s output tokens in the telemetry counters', async () => (outputOf(await bridge.samples()) - outputOf(before) >= outputTokens ? true : undefined), { timeoutMs: 60_000 });
      expect(outputOf(await bridge.samples()) - outputOf(before)).toBe(outputTokens);
    }, 120_000);

    it('paused (time_limit): the prompt is blocked before it reaches the model, and the reason names the resume time', async () => {
      const resumesAt = new Date(clock.now() + 3_600_000).toISOString();
      expect(await fire('time_limit', { resets_at: resumesAt })).toMatchObject({ state: 'paused', paused_until: resumesAt });
      const before = await bridge.samples();
      const s = await session(runBash);

      expect(s.requests).toEqual([]);
      expect(s.result.result).toContain('blocked');
      expect(s.result.result).toContain(`paused by the monitoring bridge (time_limit) until ${resumesAt}`);
      await samplesReaching([{ name: 'claude_bridge_hook_decisions_total', labels: { event: 'UserPromptSubmit', decision: 'block' }, value: decisions(before, 'UserPromptSubmit', 'block') + 1 }]);
    }, 120_000);

    it('paused during a turn: the tool call is denied with the resume time, the command does not run, and the turn ends without asking the model again', async () => {
      const resumesAt = new Date(clock.now() + 3_600_000).toISOString();
      api.onRequest = async ({ hasToolResults }) => {
        if (!hasToolResults) await fire('time_limit', { resets_at: resumesAt });
      };
      let s: Session;
      try {
        s = await session(runBash);
      } finally {
        api.onRequest = null;
      }
      expect(s.result.permission_denials).toEqual([{ tool_name: 'Bash', tool_use_id: expect.any(String), tool_input: bash.input }]);
      // `continue: false` with the denial: the turn stops at the hook, and the denial is not sent
      // back to the model (which would spend one more request of a used-up window).
      expect(s.result).toMatchObject({ is_error: false, terminal_reason: 'hook_stopped' });
      expect(s.requests).toHaveLength(1);
      const transcript = sessionTranscript(path.join(scratch.claudeDir, 'projects'), s.result.session_id);
      expect(transcript).toContain(`until ${resumesAt}`);
      expect(transcript).not.toContain(RAN);
    }, 120_000);

    it('backoff: the prompt and the tool call are each held for the current delay, then the tool runs', async () => {
      expect(await fire('rate_limit')).toMatchObject({ state: 'backoff' });
      const delayMs: number = (await bridge.get('/recovery/status')).body.backoff.delay_ms;
      expect(delayMs).toBe(2000); // recovery.backoff base_s = cap_s = 2
      const before = await bridge.samples();
      const s = await session(runBash);

      expect(s.result).toMatchObject({ is_error: false, permission_denials: [] });
      const [toolTurn, afterTool] = s.requests;
      expect(toolResults(afterTool!.body)).toEqual([expect.objectContaining({ text: expect.stringContaining(RAN), isError: false })]);
      // UserPromptSubmit was held before the first request; PreToolUse between the tool_use answer and the tool result
      expect(toolTurn!.receivedAt - s.startedAt).toBeGreaterThanOrEqual(delayMs);
      expect(afterTool!.receivedAt - toolTurn!.answeredAt).toBeGreaterThanOrEqual(delayMs);
      const after = await bridge.samples();
      expect(decisions(after, 'PreToolUse', 'delay')).toBe(decisions(before, 'PreToolUse', 'delay') + 1);
      expect(decisions(after, 'UserPromptSubmit', 'delay')).toBe(decisions(before, 'UserPromptSubmit', 'delay') + 1);
    }, 120_000);

    it('degraded (cost_threshold): a restricted tool is denied, an unrestricted one runs with the budget message as context', async () => {
      const recovery = await fire('cost_threshold');
      expect(recovery).toMatchObject({ state: 'degraded' });
      const budgetMessage: string = recovery.degraded.rules.context_message;
      // WebFetch is allowed to Claude Code itself: only the bridge's hook can deny it
      const s = await session({ kind: 'tools', calls: [webFetch, bash] }, ['Bash', 'WebFetch']);

      expect(s.result.permission_denials).toEqual([{ tool_name: 'WebFetch', tool_use_id: expect.any(String), tool_input: webFetch.input }]);
      const request = resultsRequest(s);
      const [fetchResult, bashResult] = toolResults(request.body);
      expect(fetchResult).toMatchObject({ isError: true, text: expect.stringContaining('Budget mode: the tool "WebFetch" is restricted') });
      expect(bashResult).toMatchObject({ isError: false, text: expect.stringContaining(RAN) });
      expect(JSON.stringify(request.body.messages)).toContain(budgetMessage);
    }, 120_000);

    it('API answers 429: the turn ends, and the bridge moves to backoff from StopFailure and from the telemetry’s api_error, escalated once', async () => {
      const before = await bridge.samples();
      const attemptBefore: number = (await bridge.get('/recovery/status')).body.backoff.attempt;
      const s = await session({ kind: 'rate_limited' });

      expect(s.result).toMatchObject({ is_error: true, api_error_status: 429 });
      expect(s.requests.map((r) => r.status)).toEqual([429, 429]); // CLAUDE_CODE_MAX_RETRIES=1: one retry
      const after = await samplesReaching([
        { name: 'claude_bridge_stop_failures_total', labels: { error: 'rate_limit' }, value: before.value('claude_bridge_stop_failures_total', { error: 'rate_limit' }) + 1 },
      ]);
      expect(after.value('claude_bridge_alerts_fired_total', { alert: 'rate_limit', origin: 'hook' })).toBe(
        before.value('claude_bridge_alerts_fired_total', { alert: 'rate_limit', origin: 'hook' }) + 1,
      );
      const status = (await bridge.get('/recovery/status')).body;
      expect(status.state).toBe('backoff');
      expect(status.active_alerts).toEqual([
        expect.objectContaining({ alert: 'rate_limit', origins: [expect.objectContaining({ origin: 'hook', key: s.result.session_id })] }),
      ]);

      // The telemetry reports the same 429 (an api_error event of the same prompt): the same fact,
      // so it joins the running hold instead of escalating the backoff a second time.
      const telemetry = await sumsReaching({ claude_bridge_otlp_rate_limit_events_total: before.sum('claude_bridge_otlp_rate_limit_events_total') + 1 });
      expect(telemetry.value('claude_bridge_otlp_rate_limit_events_total', { event: 'api_error' })).toBeGreaterThan(before.value('claude_bridge_otlp_rate_limit_events_total', { event: 'api_error' }));
      const firedRateLimit = (x: Samples) => [...x.values].filter(([key]) => key.startsWith('claude_bridge_alerts_fired_total{') && key.includes('alert="rate_limit"')).reduce((sum, [, v]) => sum + v, 0);
      expect(firedRateLimit(telemetry) - firedRateLimit(before)).toBe(1);
      expect((await bridge.get('/recovery/status')).body).toMatchObject({ state: 'backoff', backoff: { attempt: attemptBefore + 1 } });
    }, 120_000);

    it('bridge down: Claude Code still works (fail-open), and the restarted bridge counts nothing it did not see', async () => {
      const s = await sessionWithBridgeDown(runBash);
      expect(s.result).toMatchObject({ is_error: false, permission_denials: [], result: DONE_TEXT });
      expect(toolResults(resultsRequest(s).body)).toEqual([expect.objectContaining({ text: expect.stringContaining(RAN), isError: false })]);
      const samples = await bridge.samples();
      expect(samples.sum('claude_bridge_hook_events_total')).toBe(0);
      expect(samples.sum('claude_bridge_hook_decisions_total')).toBe(0);
      expect(samples.value('claude_bridge_sessions_ended_total')).toBe(0);
      expect(samples.has('claude_bridge_last_event_timestamp_seconds', { source_app: 'claude-code' })).toBe(false);
    }, 120_000);
  });

  describe('command hooks, installed by claude-bridge install-hooks --command', () => {
    beforeAll(() => {
      const install = bridgeCli(scratch, ['install-hooks', '--command', '--url', bridge.url, '--config', scratch.configFile]);
      expect(install.status).toBe(0);
      const settings = JSON.parse(readFileSync(path.join(scratch.claudeDir, 'settings.json'), 'utf8'));
      const hooks = Object.values(settings.hooks as Record<string, { hooks: { type: string }[] }[]>).flatMap((groups) => groups.flatMap((g) => g.hooks));
      expect(hooks.every((hook) => hook.type === 'command')).toBe(true); // the HTTP hooks were replaced, not doubled
      expect(settings.hooks.PreToolUse).toEqual([
        { matcher: '*', hooks: [{ type: 'command', command: `claude-bridge hook PreToolUse --url ${bridge.url} --config ${scratch.configFile}`, timeout: 60 }] },
      ]);
    });
    beforeEach(resume);

    it('degraded: the bridge’s decisions reach Claude Code through the command; SessionStart is counted too', async () => {
      const recovery = await fire('cost_threshold');
      const before = await bridge.samples();
      const s = await session({ kind: 'tools', calls: [webFetch, bash] }, ['Bash', 'WebFetch']);

      expect(s.result.permission_denials.map((d) => d.tool_name)).toEqual(['WebFetch']);
      const request = resultsRequest(s);
      const [fetchResult, bashResult] = toolResults(request.body);
      expect(fetchResult).toMatchObject({ isError: true, text: expect.stringContaining('Budget mode: the tool "WebFetch" is restricted') });
      expect(bashResult).toMatchObject({ isError: false, text: expect.stringContaining(RAN) });
      expect(JSON.stringify(request.body.messages)).toContain(recovery.degraded.rules.context_message);
      await samplesReaching([
        ...['SessionStart', 'UserPromptSubmit', 'Stop', 'SessionEnd'].map((event) => ({
          name: 'claude_bridge_hook_events_total',
          labels: { event, source_app: 'claude-code' },
          value: eventCount(before, event) + 1,
        })),
        { name: 'claude_bridge_hook_events_total', labels: { event: 'PreToolUse', source_app: 'claude-code' }, value: eventCount(before, 'PreToolUse') + 2 },
        { name: 'claude_bridge_hook_decisions_total', labels: { event: 'PreToolUse', decision: 'deny' }, value: decisions(before, 'PreToolUse', 'deny') + 1 },
      ]);
    }, 120_000);

    it('bridge down while paused: the command applies the saved state, so the pause holds until its resume time', async () => {
      const resumesAt = new Date(clock.now() + 3_600_000).toISOString();
      await fire('time_limit', { resets_at: resumesAt });
      const s = await sessionWithBridgeDown(runBash);
      expect(s.requests).toEqual([]);
      expect(s.result.result).toContain(`paused by the monitoring bridge (time_limit) until ${resumesAt}`);
      expect(s.result.result).toContain('this is the state it last saved');
      expect((await bridge.get('/recovery/status')).body).toMatchObject({ state: 'paused', paused_until: resumesAt }); // restored from the same file
    }, 120_000);
  });

  it('the transcripts Claude Code wrote are read by the usage source (ccusage), and their token figures appear in /prometheus', async () => {
    await resume();
    await session(runBash); // one more, so the row also stands on its own
    const written = transcriptUsage(path.join(scratch.claudeDir, 'projects'));
    // every message the stand-in streamed with a 200 is in a transcript, with the usage it reported
    const streamed = api.requests.filter((r) => r.stream && r.message).map((r) => r.message!);
    expect([...written.keys()].sort()).toEqual(streamed.map((m) => `${m.id}:${m.requestId}`).sort());
    const totals = { input: 0, output: 0, cache_creation: 0, cache_read: 0 };
    for (const m of streamed) {
      totals.input += m.usage.input_tokens;
      totals.output += m.usage.output_tokens;
      totals.cache_creation += m.usage.cache_creation_input_tokens;
      totals.cache_read += m.usage.cache_read_input_tokens;
      expect(written.get(`${m.id}:${m.requestId}`)).toEqual(m.usage);
    }
    expect(totals.input).toBeGreaterThan(0);
    await samplesReaching(Object.entries(totals).map(([kind, value]) => ({ name: 'claude_bridge_usage_block_tokens', labels: { kind }, value })));
  }, 120_000);
});

/** The transcript Claude Code wrote for a session, as text. */
function sessionTranscript(projects: string, sessionId: string): string {
  for (const dir of readdirSync(projects)) {
    const file = path.join(projects, dir, `${sessionId}.jsonl`);
    if (existsSync(file)) return readFileSync(file, 'utf8');
  }
  throw new Error(`no transcript of session ${sessionId} under ${projects}`);
}

/** Usage per message (`message.id:requestId`, each written once per content block) in every transcript under projects/. */
function transcriptUsage(projects: string): Map<string, Record<string, number>> {
  const usage = new Map<string, Record<string, number>>();
  for (const dir of readdirSync(projects)) {
    for (const file of readdirSync(path.join(projects, dir)).filter((f) => f.endsWith('.jsonl'))) {
      for (const line of readFileSync(path.join(projects, dir, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line);
        if (entry.type !== 'assistant' || !entry.message?.usage || entry.message.model === '<synthetic>') continue;
        const u = entry.message.usage;
        usage.set(`${entry.message.id}:${entry.requestId}`, {
          input_tokens: u.input_tokens,
          output_tokens: u.output_tokens,
          cache_creation_input_tokens: u.cache_creation_input_tokens,
          cache_read_input_tokens: u.cache_read_input_tokens,
        });
      }
    }
  }
  return usage;
}
