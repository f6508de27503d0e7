import { readFileSync } from 'node:fs';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { MAX_SESSIONS, sessionsComponent } from '../../src/sources/sessions/index.js';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { repoPath } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';

const hookInput = (name: string) => JSON.parse(readFileSync(repoPath('test/fixtures/claude-code/http-hook-inputs', `${name}.json`), 'utf8')) as Record<string, unknown>;
const statuslineInput = () => JSON.parse(readFileSync(repoPath('test/fixtures/claude-code/statusline-input.json'), 'utf8')) as Record<string, any>;

describe('GET /sessions', () => {
  let api: RunningBridge;
  let clock: ManualClock;
  const TTL_S = 600;

  beforeEach(async () => {
    clock = new ManualClock();
    api = await startBridge({
      config: testConfig({ usage: { source: 'none' }, hooks: { session_ttl_s: TTL_S } }),
      clock,
      components: [hooksComponent, sessionsComponent, createUsageComponent({ timeZone: 'UTC' })],
    });
  });
  afterEach(() => api.stop());

  it('lists a session from its hook inputs: project folder, prompts, tool calls, activity, last decision', async () => {
    const prompt = hookInput('UserPromptSubmit');
    const tool = hookInput('PreToolUse');
    expect((await api.post('/hooks', prompt)).status).toBe(200);
    const startedAt = clock.now();
    clock.advance(5000);
    expect((await api.post('/hooks', tool)).status).toBe(200);
    const { body } = await api.get('/sessions');
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]).toMatchObject({
      session_id: tool.session_id,
      project: tool.cwd,
      prompts: 1,
      tool_calls: 1,
      started_at: new Date(startedAt).toISOString(),
      last_activity_at: new Date(clock.now()).toISOString(),
      last_decision: { event: 'PreToolUse', decision: 'allow' },
    });
    expect(body.recent_decisions.map((d: any) => d.event)).toEqual(['PreToolUse', 'UserPromptSubmit']);
  });

  it('records the decision served: a pause denies the tool call, and the session shows it', async () => {
    expect((await api.post('/alerts/time_limit', { summary: 'window used up', resets_at: (clock.now() + 3_600_000) / 1000 })).status).toBe(200);
    const tool = hookInput('PreToolUse');
    const answer = await api.post('/hooks/PreToolUse', tool);
    expect(answer.body.hookSpecificOutput.permissionDecision).toBe('deny');
    const { body } = await api.get('/sessions');
    expect(body.sessions[0].last_decision).toMatchObject({ decision: 'deny', event: 'PreToolUse' });
    expect(body.sessions[0].last_decision.reason).toEqual(answer.body.hookSpecificOutput.permissionDecisionReason);
  });

  it("takes the model, cost and tokens of a session from the status line input", async () => {
    const input = statuslineInput();
    expect((await api.post('/statusline', input)).status).toBe(200);
    const { body } = await api.get('/sessions');
    expect(body.sessions[0]).toMatchObject({
      session_id: input.session_id,
      model: input.model.display_name,
      project: input.workspace.current_dir,
      cost_usd: input.cost.total_cost_usd,
      tokens: input.context_window.total_input_tokens + input.context_window.total_output_tokens,
    });
    // The same figures reach /metrics and the status summary.
    expect((await api.get('/metrics')).body.sessions_data.sessions[0].session_id).toBe(input.session_id);
    expect((await api.get('/status')).body.sessions_data.sessions[0].cost_usd).toBe(input.cost.total_cost_usd);
  });

  it('forgets a session once its TTL has passed without activity', async () => {
    await api.post('/hooks', hookInput('UserPromptSubmit'));
    clock.advance(TTL_S * 1000 - 1);
    expect((await api.get('/sessions')).body.sessions).toHaveLength(1);
    clock.advance(1);
    expect((await api.get('/sessions')).body.sessions).toHaveLength(0);
  });

  it('keeps at most MAX_SESSIONS sessions, dropping the least recently active', async () => {
    const base = hookInput('UserPromptSubmit');
    for (let i = 0; i <= MAX_SESSIONS; i += 1) {
      await api.post('/hooks', { ...base, session_id: `session-${i}` });
      clock.advance(1);
    }
    const ids = (await api.get('/sessions')).body.sessions.map((s: any) => s.session_id);
    expect(ids).toHaveLength(MAX_SESSIONS);
    expect(ids).not.toContain('session-0');
    expect(ids[0]).toBe(`session-${MAX_SESSIONS}`);
  });

  it('records nothing from a malformed hook input or an unauthorised status line', async () => {
    expect((await api.post('/hooks', { session_id: 'x' })).status).toBe(400);
    expect((await api.get('/sessions')).body.sessions).toHaveLength(0);
  });

  it('adds no per-session Prometheus label', async () => {
    await api.post('/statusline', statuslineInput());
    expect((await api.get('/prometheus')).text).not.toContain('abc123');
  });
});

describe('the status line with a token', () => {
  it('records no session from a status line refused for its missing token', async () => {
    const api = await startBridge({
      config: testConfig({ auth: { token: 'secret-token-0123456789' }, usage: { source: 'none' } }),
      clock: new ManualClock(),
      components: [hooksComponent, sessionsComponent, createUsageComponent({ timeZone: 'UTC' })],
    });
    try {
      expect((await api.post('/statusline', statuslineInput())).status).toBe(401);
      expect((await api.get('/sessions')).body.sessions).toHaveLength(0);
      expect((await api.post('/statusline', statuslineInput(), { authorization: 'Bearer secret-token-0123456789' })).status).toBe(200);
      expect((await api.get('/sessions')).body.sessions).toHaveLength(1);
    } finally {
      await api.stop();
    }
  });
});
