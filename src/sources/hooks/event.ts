import { z } from 'zod';
import { isJsonObject } from '../../util/json.js';
import { truncate } from '../../util/text.js';

/**
 * A stored event of the hooks observability server (samples: test/fixtures/hooks-server). Parsed tolerantly: unknown
 * fields are allowed (and left out of the result, so a megabyte `chat` is never copied), and
 * per-type facts are read from `payload` because stored events lack the top-level copies that
 * live frames carry.
 */
export const hookEventSchema = z.object({
  id: z.number().int().positive().optional(),
  source_app: z.string().min(1),
  session_id: z.string().min(1),
  hook_event_type: z.string().min(1),
  payload: z.custom<Record<string, unknown>>(isJsonObject, 'expected an object'),
  timestamp: z.number().finite().optional(),
});

export type HookEvent = z.infer<typeof hookEventSchema>;

/** The few facts the bridge keeps of an event; everything else (transcripts!) is dropped at once. */
export interface ActivityEvent {
  /** Server-assigned id; absent only for events that never passed through a server. */
  id?: number;
  type: string;
  sourceApp: string;
  sessionId: string;
  /** When the hook fired (ms), as the sender says; null when unknown. */
  time: number | null;
  toolName?: string;
  toolUseId?: string;
  /** Claude Code's own measurement on PostToolUse, when it sends one. */
  durationMs?: number;
  notificationType?: string;
  trigger?: string;
  error?: string;
  /** The prompt a StopFailure ended; the same failure may arrive over the WebSocket and HTTP. */
  promptId?: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

export function parseHookEvent(raw: unknown): ParseResult<HookEvent> {
  const result = hookEventSchema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problem: describeIssues(result.error.issues) };
}

export function toActivityEvent(event: HookEvent): ActivityEvent {
  return activityEvent(event.hook_event_type, event.source_app, event.session_id, event.timestamp ?? null, event.payload, event.id);
}

/** The source_app label of events that Claude Code posts to the bridge's HTTP hooks itself. */
export const CLAUDE_CODE_SOURCE_APP = 'claude-code';

/** A Claude Code hook input (the body of an HTTP hook) as an event; it carries no timestamp. */
export function hookInputToActivityEvent(eventName: string, input: Record<string, unknown>, sourceApp: string): ActivityEvent {
  return activityEvent(eventName, sourceApp, nonEmptyString(input.session_id) ?? 'unknown', null, input);
}

/**
 * One object literal of one shape for every event: built from spreads of varying shapes, it made V8
 * promote about 0.7 KB per event to the old generation (--trace-gc-nvp), which showed up as RSS.
 */
function activityEvent(
  type: string,
  sourceApp: string,
  sessionId: string,
  time: number | null,
  payload: Record<string, unknown>,
  id?: number,
): ActivityEvent {
  const duration = payload.duration_ms;
  return {
    id,
    type: truncate(type, MAX_FIELD_LENGTH),
    sourceApp: truncate(sourceApp, MAX_FIELD_LENGTH),
    sessionId: truncate(sessionId, MAX_FIELD_LENGTH),
    time,
    toolName: nonEmptyString(payload.tool_name),
    toolUseId: nonEmptyString(payload.tool_use_id),
    durationMs: typeof duration === 'number' && Number.isFinite(duration) && duration >= 0 ? duration : undefined,
    notificationType: type === 'Notification' ? nonEmptyString(payload.notification_type) : undefined,
    trigger: type === 'PreCompact' ? nonEmptyString(payload.trigger) : undefined,
    // PostToolUseFailure also has an `error` (a message); only StopFailure's is a category.
    error: type === 'StopFailure' ? nonEmptyString(payload.error) : undefined,
    promptId: type === 'StopFailure' ? nonEmptyString(payload.prompt_id) : undefined,
  };
}

/**
 * The longest text kept of any field: ids and names are far shorter (a session id is a 36-character
 * UUID), and the kept facts (sessions, pending tools, label values, alert origins) stay small
 * whatever an open endpoint is sent.
 */
const MAX_FIELD_LENGTH = 128;

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? truncate(value, MAX_FIELD_LENGTH) : undefined;
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || 'event'}: ${i.message}`)
    .join('; ');
}

/** The check of the hooks server's POST /events: falsy required fields are "missing". */
export const REQUIRED_EVENT_FIELDS = ['source_app', 'session_id', 'hook_event_type', 'payload'] as const;

export function missingRequiredFields(body: Record<string, unknown>): boolean {
  return REQUIRED_EVENT_FIELDS.some((field) => !body[field]);
}

