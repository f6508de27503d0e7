import type { Request, RequestHandler, Response } from 'express';
import type { BridgeConfig } from '../../config/schema.js';
import { HttpError } from '../../util/errors.js';
import type { RouteModule } from '../../http/types.js';
import type { RecoveryController } from '../../recovery/controller.js';
import { decide, renderHookOutput, type DecisionPolicy, type HookDecision, type HookInput } from '../../recovery/decide.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { DecisionLabel, HookActivity } from './activity.js';
import {
  CLAUDE_CODE_SOURCE_APP,
  hookInputToActivityEvent,
  missingRequiredFields,
  parseHookEvent,
  toActivityEvent,
} from './event.js';
import type { HookEventSink } from './sink.js';
import { isJsonObject } from '../../util/json.js';

export interface HookRoutesDeps {
  config: BridgeConfig;
  clock: Clock;
  logger: Logger;
  controller: RecoveryController;
  activity: HookActivity;
  sink: HookEventSink;
}

const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const SOURCE_APP = /^[\w.-]{1,64}$/;

/**
 * HTTP ingestion (`POST /events`, a drop-in for the hooks server's, so its hook scripts can post
 * here) and Claude Code's HTTP hooks (`POST /hooks[/:event]`), answered with the recovery decision.
 * Both are open like the hooks server they replace: send_event.py sends no credentials, and a hook
 * that fails authentication would silently fail open in Claude Code.
 */
export function hookRoutes(deps: HookRoutesDeps): RouteModule {
  return {
    endpoints: [
      {
        method: 'POST',
        path: '/events',
        description: 'Ingest one hook event as send_event.py posts it to the hooks server; answers the stored event with its id.',
      },
      {
        method: 'POST',
        path: '/hooks/:event',
        description: 'Claude Code HTTP hook: records the hook input and answers the recovery decision (deny, block, hold, or {}).',
      },
      { method: 'POST', path: '/hooks', description: "Claude Code HTTP hook keyed by the input's hook_event_name; same answers." },
    ],
    mount(router, { largeJson }) {
      const body = countMalformedBodies(largeJson, deps.activity);
      router.post('/events', body, (req, res) => {
        res.json(ingestEvent(req.body, deps));
      });
      router.post('/hooks/:event', body, (req, res) => answerHook(String(req.params.event), req, res, deps));
      router.post('/hooks', body, (req, res) => answerHook(undefined, req, res, deps));
    },
  };
}

/** Stores the event the way the hooks server does: `{...event, id, timestamp}`. */
function ingestEvent(body: unknown, deps: HookRoutesDeps): Record<string, unknown> {
  if (!isJsonObject(body) || missingRequiredFields(body)) {
    deps.activity.recordMalformed('http');
    throw new HttpError(400, 'Missing required fields');
  }
  const parsed = parseHookEvent(body);
  if (!parsed.ok) {
    deps.activity.recordMalformed('http');
    throw new HttpError(400, `Invalid event: ${parsed.problem}`);
  }
  const stored: Record<string, unknown> = {
    ...body,
    id: deps.sink.assignId(),
    timestamp: parsed.value.timestamp || deps.clock.now(),
  };
  if (body.humanInTheLoop && !body.humanInTheLoopStatus) stored.humanInTheLoopStatus = { status: 'pending' };
  const event = toActivityEvent(parsed.value);
  event.id = stored.id as number;
  event.time = stored.timestamp as number;
  deps.sink.ingest(event);
  return stored;
}

async function answerHook(pathEvent: string | undefined, req: Request, res: Response, deps: HookRoutesDeps): Promise<void> {
  const input: unknown = req.body;
  if (!isJsonObject(input)) {
    deps.activity.recordMalformed('http');
    throw new HttpError(400, 'the hook input must be a JSON object');
  }
  const event = hookEventName(pathEvent, input, deps);
  deps.sink.ingest(hookInputToActivityEvent(event, input, sourceAppOf(req)));
  const hookInput: HookInput = {
    hook_event_name: event,
    ...(typeof input.tool_name === 'string' ? { tool_name: input.tool_name } : {}),
  };
  const answer = await decideAndServe(hookInput, res, deps);
  deps.activity.recordDecision(event, answer.label);
  if (answer.decision === null) return; // Claude Code hung up during the hold: its hook timed out
  if (answer.label !== 'allow') deps.logger.debug('hook answered', { event, decision: answer.label, tool: hookInput.tool_name });
  res.json(renderHookOutput(event, answer.decision));
}

function hookEventName(pathEvent: string | undefined, input: Record<string, unknown>, deps: HookRoutesDeps): string {
  const named = typeof input.hook_event_name === 'string' ? input.hook_event_name : undefined;
  const event = pathEvent ?? named;
  const reject = (message: string) => {
    deps.activity.recordMalformed('http');
    return new HttpError(400, message);
  };
  if (event === undefined) throw reject('hook_event_name is missing');
  if (!EVENT_NAME.test(event)) throw reject(`"${event.slice(0, 64)}" is not a hook event name`);
  if (pathEvent !== undefined && named !== undefined && named !== pathEvent) {
    throw reject(`the URL names the hook event "${pathEvent}" but the input's hook_event_name is "${named}"`);
  }
  return event;
}

/**
 * The decision, with a backoff hold served before answering. After the hold the state is asked
 * again: a pause that began meanwhile still denies, anything else lets the call through.
 * The decision is null when the client went away during the hold.
 */
async function decideAndServe(
  input: HookInput,
  res: Response,
  deps: HookRoutesDeps,
): Promise<{ decision: HookDecision | null; label: DecisionLabel }> {
  const policy: DecisionPolicy = { maxHoldMs: deps.config.hooks.max_hold_ms };
  const first = decide(input, deps.controller.snapshot(), policy);
  if (first.kind !== 'delay') return { decision: first, label: first.kind };
  const served = await hold(deps.clock, first.ms, res);
  if (!served) return { decision: null, label: 'delay' };
  const after = decide(input, deps.controller.snapshot(), policy);
  return { decision: after, label: after.kind === 'deny' || after.kind === 'block' ? after.kind : 'delay' };
}

/** Waits on the injected clock; resolves false early if the client goes away. */
function hold(clock: Clock, ms: number, res: Response): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

function sourceAppOf(req: Request): string {
  const value = req.query.source_app;
  return typeof value === 'string' && SOURCE_APP.test(value) ? value : CLAUDE_CODE_SOURCE_APP;
}

/** Bodies that are not JSON (or too large) are "malformed" too, then answered by the app's error handler. */
function countMalformedBodies(parser: RequestHandler, activity: HookActivity): RequestHandler {
  return (req, res, next) => {
    parser(req, res, (error?: unknown) => {
      if (error) activity.recordMalformed('http');
      next(error);
    });
  };
}
