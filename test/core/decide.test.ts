import { decide, isRestricted, renderHookOutput, type DecisionPolicy } from '../../src/recovery/decide.js';
import type { RecoverySnapshot } from '../../src/recovery/types.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const RULES = { deny_tools: ['Task', 'WebSearch', 'mcp__browser'], context_message: 'Budget mode: be cheap.' };
const POLICY: DecisionPolicy = { maxHoldMs: { PreToolUse: 50_000, UserPromptSubmit: 25_000 } };

function snapshot(overrides: Partial<RecoverySnapshot> = {}): RecoverySnapshot {
  return {
    state: 'normal',
    stateSince: NOW,
    now: NOW,
    activeAlerts: [],
    backoff: { active: false, attempt: 0, delayMs: 0, until: null },
    pausedUntil: null,
    degraded: { active: false, rules: RULES },
    ...overrides,
  };
}

const paused = snapshot({
  state: 'paused',
  pausedUntil: Date.parse('2026-11-25T14:00:00Z'),
  activeAlerts: [{ type: 'time_limit', action: 'session_pause', since: NOW, origins: [] }],
});
const backoff = (delayMs: number) => snapshot({ state: 'backoff', backoff: { active: true, attempt: 3, delayMs, until: NOW + delayMs } });
const degraded = snapshot({ state: 'degraded', degraded: { active: true, rules: RULES } });

describe('decide()', () => {
  it('allows everything when normal', () => {
    for (const event of ['PreToolUse', 'UserPromptSubmit', 'Stop', 'SessionEnd']) {
      expect(decide({ hook_event_name: event, tool_name: 'Task' }, snapshot(), POLICY)).toEqual({ kind: 'allow' });
    }
  });

  it('while paused denies tools and blocks prompts with a reason naming the resume time', () => {
    const deny = decide({ hook_event_name: 'PreToolUse', tool_name: 'Bash' }, paused, POLICY);
    expect(deny).toEqual({ kind: 'deny', reason: expect.stringContaining('until 2026-11-25T14:00:00.000Z'), stop: true });
    expect(deny.kind === 'deny' && deny.reason).toMatch(/time_limit/);
    expect(decide({ hook_event_name: 'UserPromptSubmit' }, paused, POLICY)).toEqual({
      kind: 'block',
      reason: expect.stringContaining('2026-11-25T14:00:00.000Z'),
    });
    expect(decide({ hook_event_name: 'Stop' }, paused, POLICY)).toEqual({ kind: 'allow' });
  });

  it('while backing off holds prompts and tool calls for the delay, capped per event', () => {
    expect(decide({ hook_event_name: 'PreToolUse', tool_name: 'Bash' }, backoff(4000), POLICY)).toEqual({ kind: 'delay', ms: 4000 });
    expect(decide({ hook_event_name: 'UserPromptSubmit' }, backoff(32_000), POLICY)).toEqual({ kind: 'delay', ms: 25_000 });
    expect(decide({ hook_event_name: 'PostToolUse' }, backoff(4000), POLICY)).toEqual({ kind: 'allow' });
  });

  it('while degraded denies restricted tools (an MCP server rule covers its tools) and adds context to the rest', () => {
    expect(decide({ hook_event_name: 'PreToolUse', tool_name: 'WebSearch' }, degraded, POLICY)).toEqual({
      kind: 'deny',
      reason: expect.stringContaining('"WebSearch" is restricted'),
    });
    expect(decide({ hook_event_name: 'PreToolUse', tool_name: 'mcp__browser__open' }, degraded, POLICY).kind).toBe('deny');
    expect(decide({ hook_event_name: 'PreToolUse', tool_name: 'Bash' }, degraded, POLICY)).toEqual({
      kind: 'allow',
      context: 'Budget mode: be cheap.',
    });
  });

  it('combines degradation with backoff: restricted tools still denied, others held with context', () => {
    const both = snapshot({ state: 'backoff', backoff: { active: true, attempt: 1, delayMs: 1000, until: NOW + 1000 }, degraded: { active: true, rules: RULES } });
    expect(decide({ hook_event_name: 'PreToolUse', tool_name: 'Task' }, both, POLICY).kind).toBe('deny');
    expect(decide({ hook_event_name: 'PreToolUse', tool_name: 'Read' }, both, POLICY)).toEqual({ kind: 'delay', ms: 1000, context: 'Budget mode: be cheap.' });
  });

  it('isRestricted matches exact names and MCP server prefixes only', () => {
    expect(isRestricted('Task', RULES.deny_tools)).toBe(true);
    expect(isRestricted('TaskOutput', RULES.deny_tools)).toBe(false);
    expect(isRestricted('mcp__browserless__x', RULES.deny_tools)).toBe(false);
  });
});

describe('renderHookOutput()', () => {
  it('renders each decision in Claude Code hook output format', () => {
    expect(renderHookOutput('PreToolUse', { kind: 'deny', reason: 'r' })).toEqual({
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'r' },
    });
    // a pause: the turn ends too, instead of the model being asked what to do without the tool
    expect(renderHookOutput('PreToolUse', { kind: 'deny', reason: 'r', stop: true })).toEqual({
      continue: false,
      stopReason: 'r',
      hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'r' },
    });
    expect(renderHookOutput('UserPromptSubmit', { kind: 'block', reason: 'r' })).toEqual({ decision: 'block', reason: 'r' });
    expect(renderHookOutput('PreToolUse', { kind: 'allow' })).toEqual({});
    expect(renderHookOutput('PreToolUse', { kind: 'delay', ms: 5, context: 'c' })).toEqual({
      hookSpecificOutput: { hookEventName: 'PreToolUse', additionalContext: 'c' },
    });
    expect(renderHookOutput('Stop', { kind: 'allow', context: 'c' })).toEqual({});
  });
});
