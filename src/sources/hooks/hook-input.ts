import { isJsonObject } from '../../util/json.js';

const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export type HookInputRead = { ok: true; event: string; input: Record<string, unknown> } | { ok: false; problem: string };

/**
 * A Claude Code HTTP hook request: the body is the hook input, the event is named by the URL
 * (`/hooks/:event`) or by the input's `hook_event_name` (`/hooks`); when both name it they agree.
 */
export function readHookInput(pathEvent: string | undefined, body: unknown): HookInputRead {
  if (!isJsonObject(body)) return { ok: false, problem: 'the hook input must be a JSON object' };
  const named = typeof body.hook_event_name === 'string' ? body.hook_event_name : undefined;
  const event = pathEvent ?? named;
  if (event === undefined) return { ok: false, problem: 'hook_event_name is missing' };
  if (!EVENT_NAME.test(event)) return { ok: false, problem: `"${event.slice(0, 64)}" is not a hook event name` };
  if (pathEvent !== undefined && named !== undefined && named !== pathEvent) {
    return { ok: false, problem: `the URL names the hook event "${pathEvent}" but the input's hook_event_name is "${named}"` };
  }
  return { ok: true, event, input: body };
}

/** The paths Claude Code's HTTP hooks post to; the hooks source records them, src/http answers them. */
export const HOOK_PATHS = { byEvent: '/hooks/:event', byInput: '/hooks' } as const;

export function pathEventOf(params: Record<string, unknown>): string | undefined {
  return typeof params.event === 'string' ? params.event : undefined;
}
