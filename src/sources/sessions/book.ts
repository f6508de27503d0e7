import { iso } from '../../util/time.js';

/** Longest string kept from an input (a session id, a folder, a model name). */
const MAX_TEXT = 300;
/** How many of the last hook decisions are kept for the page. */
export const MAX_RECENT_DECISIONS = 20;

export interface SessionRecord {
  sessionId: string;
  project: string | null;
  model: string | null;
  startedAt: number;
  lastActivityAt: number;
  ended: boolean;
  prompts: number;
  toolCalls: number;
  /** From the status line input, which carries the session's own figures. */
  costUsd: number | null;
  tokens: number | null;
  lastDecision: DecisionRecord | null;
}

export interface DecisionRecord {
  at: number;
  sessionId: string | null;
  event: string;
  decision: 'allow' | 'deny' | 'block' | 'context';
  reason: string | null;
}

/**
 * Sessions seen recently, one record per session updated in place: bounded in number (the
 * least recently active goes first) and expiring `ttlMs` after their last activity. Per-session
 * figures live here, never in Prometheus labels.
 */
export class SessionBook {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly decisions: DecisionRecord[] = [];

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
  ) {}

  hookInput(event: string, input: Record<string, unknown>, at: number): void {
    const session = this.touch(input.session_id, at);
    if (!session) return;
    const project = text(input.cwd);
    if (project) session.project = project;
    const model = text(input.model);
    if (model) session.model = model;
    if (event === 'SessionStart') session.ended = false;
    else if (event === 'SessionEnd') session.ended = true;
    else if (event === 'UserPromptSubmit') session.prompts += 1;
    else if (event === 'PreToolUse') session.toolCalls += 1;
  }

  statusline(input: Record<string, unknown>, at: number): void {
    const session = this.touch(input.session_id, at);
    if (!session) return;
    const workspace = objectOf(input.workspace);
    const project = text(workspace?.current_dir) ?? text(input.cwd);
    if (project) session.project = project;
    const model = objectOf(input.model);
    const name = text(model?.display_name) ?? text(model?.id);
    if (name) session.model = name;
    const cost = finite(objectOf(input.cost)?.total_cost_usd);
    if (cost !== null) session.costUsd = cost;
    const context = objectOf(input.context_window);
    const input_ = finite(context?.total_input_tokens);
    const output = finite(context?.total_output_tokens);
    if (input_ !== null || output !== null) session.tokens = (input_ ?? 0) + (output ?? 0);
  }

  decision(record: DecisionRecord): void {
    this.decisions.push(record);
    if (this.decisions.length > MAX_RECENT_DECISIONS) this.decisions.shift();
    const session = record.sessionId === null ? undefined : this.sessions.get(record.sessionId);
    if (session) session.lastDecision = record;
  }

  /** Live sessions, most recently active first; expired ones are dropped on the way. */
  list(now: number): SessionRecord[] {
    for (const [id, session] of this.sessions) if (session.lastActivityAt <= now - this.ttlMs) this.sessions.delete(id);
    return [...this.sessions.values()].sort((a, b) => b.lastActivityAt - a.lastActivityAt);
  }

  recentDecisions(): DecisionRecord[] {
    return [...this.decisions].reverse();
  }

  private touch(rawId: unknown, at: number): SessionRecord | null {
    const sessionId = text(rawId);
    if (!sessionId) return null;
    let session = this.sessions.get(sessionId);
    if (!session) {
      session = { sessionId, project: null, model: null, startedAt: at, lastActivityAt: at, ended: false, prompts: 0, toolCalls: 0, costUsd: null, tokens: null, lastDecision: null };
      this.sessions.set(sessionId, session);
      if (this.sessions.size > this.maxSessions) this.dropLeastRecent();
    }
    session.startedAt = Math.min(session.startedAt, at);
    session.lastActivityAt = Math.max(session.lastActivityAt, at);
    return session;
  }

  private dropLeastRecent(): void {
    let oldest: SessionRecord | undefined;
    for (const session of this.sessions.values()) if (!oldest || session.lastActivityAt < oldest.lastActivityAt) oldest = session;
    if (oldest) this.sessions.delete(oldest.sessionId);
  }
}

export function describeSession(session: SessionRecord) {
  return {
    session_id: session.sessionId,
    project: session.project,
    model: session.model,
    started_at: iso(session.startedAt),
    last_activity_at: iso(session.lastActivityAt),
    ended: session.ended,
    prompts: session.prompts,
    tool_calls: session.toolCalls,
    tokens: session.tokens,
    cost_usd: session.costUsd,
    last_decision: session.lastDecision ? describeDecision(session.lastDecision) : null,
  };
}

export function describeDecision(record: DecisionRecord) {
  return { at: iso(record.at), session_id: record.sessionId, event: record.event, decision: record.decision, reason: record.reason };
}

/**
 * What an answer to a hook said, read from Claude Code's hook output format: `{}` lets the call
 * through, `permissionDecision: deny` or `decision: block` stops it, `additionalContext` advises.
 */
export function readHookAnswer(body: unknown): { decision: DecisionRecord['decision']; reason: string | null } {
  const answer = objectOf(body) ?? {};
  const specific = objectOf(answer.hookSpecificOutput);
  if (specific?.permissionDecision === 'deny') return { decision: 'deny', reason: text(specific.permissionDecisionReason) };
  if (answer.decision === 'block') return { decision: 'block', reason: text(answer.reason) };
  const context = text(specific?.additionalContext);
  return context ? { decision: 'context', reason: context } : { decision: 'allow', reason: null };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_TEXT) : null;
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function objectOf(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
