import type { Request, RequestHandler } from 'express';
import type { RouteModule } from '../../component.js';
import type { Clock } from '../../util/clock.js';
import { HttpError } from '../../util/errors.js';
import { isJsonObject } from '../../util/json.js';
import type { HookActivity } from './activity.js';
import { CLAUDE_CODE_SOURCE_APP, hookInputToActivityEvent, missingRequiredFields, parseHookEvent, toActivityEvent } from './event.js';
import { HOOK_PATHS, pathEventOf, readHookInput } from './hook-input.js';
import type { HookEventSink } from './sink.js';

export interface HookRoutesDeps {
  clock: Clock;
  activity: HookActivity;
  sink: HookEventSink;
}

const SOURCE_APP = /^[\w.-]{1,64}$/;

/**
 * HTTP ingestion (`POST /events`, a drop-in for the hooks server's, so its hook scripts can post
 * here), and the fact half of Claude Code's HTTP hooks (`POST /hooks[/:event]`): the input is
 * recorded as an event, then handed on to the decision routes (src/http/routes-hooks.ts), which
 * answer. Both are open like the hooks server they replace: send_event.py sends no credentials,
 * and a hook that fails authentication would silently fail open in Claude Code.
 */
export function hookRoutes(deps: HookRoutesDeps): RouteModule {
  return {
    endpoints: [
      {
        method: 'POST',
        path: '/events',
        description: 'Ingest one hook event as send_event.py posts it to the hooks server; answers the stored event with its id.',
      },
    ],
    mount(router, { largeJson, hooksJson }) {
      const body = countMalformedBodies(largeJson, deps.activity);
      const hookBody = countMalformedBodies(hooksJson, deps.activity);
      router.post('/events', body, (req, res) => {
        res.json(ingestEvent(req.body, deps));
      });
      const recordHook: RequestHandler = (req, _res, next) => {
        recordHookInput(req, deps);
        next();
      };
      router.post(HOOK_PATHS.byEvent, hookBody, recordHook);
      router.post(HOOK_PATHS.byInput, hookBody, recordHook);
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

function recordHookInput(req: Request, deps: HookRoutesDeps): void {
  const read = readHookInput(pathEventOf(req.params), req.body);
  if (!read.ok) {
    deps.activity.recordMalformed('http');
    throw new HttpError(400, read.problem);
  }
  deps.sink.ingest(hookInputToActivityEvent(read.event, read.input, sourceAppOf(req)));
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
