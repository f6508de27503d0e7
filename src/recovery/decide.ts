import type { RecoverySnapshot } from './types.js';

/** The part of a Claude Code hook input a decision depends on. */
export interface HookInput {
  hook_event_name: string;
  tool_name?: string;
}

export type HookDecision =
  | { kind: 'allow'; context?: string }
  | { kind: 'delay'; ms: number; context?: string }
  /** `stop`: Claude Code is also to end the turn (a pause), not go on to ask the model what else to do. */
  | { kind: 'deny'; reason: string; stop?: true }
  | { kind: 'block'; reason: string };

export interface DecisionPolicy {
  /** Longest hold per hook event; events not listed are never held. */
  maxHoldMs: Partial<Record<string, number>>;
  /** Formats a resume time for people; injected so tests pin the time zone. */
  formatTime?: (ms: number) => string;
}

const ALLOW: HookDecision = { kind: 'allow' };

/**
 * What a hook should answer right now. Pure: the snapshot carries the time. Effects combine —
 * a pause stops everything, a restricted tool is denied even while backing off, a backoff holds
 * prompts and tool calls, and degradation adds its context to whatever is allowed.
 */
export function decide(input: HookInput, snapshot: RecoverySnapshot, policy: DecisionPolicy): HookDecision {
  const event = input.hook_event_name;
  if (event !== 'PreToolUse' && event !== 'UserPromptSubmit') return ALLOW;

  if (snapshot.state === 'paused') {
    const reason = pauseReason(snapshot, policy);
    return event === 'PreToolUse' ? { kind: 'deny', reason, stop: true } : { kind: 'block', reason };
  }

  const degraded = snapshot.degraded.active ? snapshot.degraded.rules : null;
  if (degraded && event === 'PreToolUse' && input.tool_name && isRestricted(input.tool_name, degraded.deny_tools)) {
    return {
      kind: 'deny',
      reason:
        `Budget mode: the tool "${input.tool_name}" is restricted because the cost threshold was reached ` +
        `(restricted: ${degraded.deny_tools.join(', ')}). Continue with cheaper tools.`,
    };
  }
  const context = degraded?.context_message ?? undefined;

  if (snapshot.backoff.active && snapshot.backoff.delayMs > 0) {
    const ms = Math.min(snapshot.backoff.delayMs, policy.maxHoldMs[event] ?? 0);
    if (ms > 0) return context ? { kind: 'delay', ms, context } : { kind: 'delay', ms };
  }
  return context ? { kind: 'allow', context } : ALLOW;
}

/** A restriction names a tool exactly, or an MCP server as `mcp__server` (all of its tools). */
export function isRestricted(toolName: string, denyTools: readonly string[]): boolean {
  return denyTools.some((rule) => rule === toolName || (rule.startsWith('mcp__') && toolName.startsWith(`${rule}__`)));
}

function pauseReason(snapshot: RecoverySnapshot, policy: DecisionPolicy): string {
  const format = policy.formatTime ?? ((ms: number) => new Date(ms).toISOString());
  const causes = snapshot.activeAlerts.filter((a) => a.action === 'session_pause').map((a) => a.type);
  const why = causes.length ? ` (${causes.join(', ')})` : '';
  const until =
    snapshot.pausedUntil === null || snapshot.pausedUntil <= snapshot.now
      ? 'until it is resumed manually'
      : `until ${format(snapshot.pausedUntil)}, when the usage window resets`;
  return `Claude Code is paused by the monitoring bridge${why} ${until}. To resume earlier: POST /recovery/resume on the bridge.`;
}

/** Claude Code's hook output JSON for a decision (a delay has already been served by then). */
export function renderHookOutput(event: string, decision: HookDecision): Record<string, unknown> {
  switch (decision.kind) {
    case 'deny': {
      const denied = { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: decision.reason } };
      // A denial alone sends the reason back to the model, which is asked again: one more request
      // of a usage window that is used up. `continue: false` ends the turn; the user sees stopReason.
      return decision.stop ? { continue: false, stopReason: decision.reason, ...denied } : denied;
    }
    case 'block':
      return { decision: 'block', reason: decision.reason };
    case 'allow':
    case 'delay':
      return decision.context && (event === 'PreToolUse' || event === 'UserPromptSubmit')
        ? { hookSpecificOutput: { hookEventName: event, additionalContext: decision.context } }
        : {};
  }
}
