import type { Request, RequestHandler, Response } from 'express';
import type { ComponentFactory, RouteModule } from '../../component.js';
import type { Clock } from '../../util/clock.js';
import { HOOK_PATHS, pathEventOf, readHookInput } from '../hooks/hook-input.js';
import { isJsonObject } from '../../util/json.js';
import { describeDecision, describeSession, readHookAnswer, SessionBook } from './book.js';

/** However many session ids arrive, no more are kept (the least recently active go first). */
export const MAX_SESSIONS = 100;

/**
 * Sessions as a view: every hook input and status line update names its session; this keeps a
 * bounded, expiring record of each (project folder, model, activity, the status line's cost and
 * tokens, the last decision served to it) for `GET /sessions` and the status page.
 */
export const sessionsComponent: ComponentFactory = ({ config, clock }) => {
  const book = new SessionBook(config.hooks.session_ttl_s * 1000, MAX_SESSIONS);
  const read = () => sessionsData(book, clock);
  return {
    name: 'sessions',
    routes: sessionRoutes(book, clock, read),
    section: { key: 'sessions_data', read },
  };
};

function sessionsData(book: SessionBook, clock: Clock) {
  return {
    sessions: book.list(clock.now()).map(describeSession),
    recent_decisions: book.recentDecisions().map(describeDecision),
  };
}

/**
 * The recording halves: mounted after the hooks source (which refuses a malformed hook input)
 * and before the status line route and the decision routes, each records and hands on.
 */
function sessionRoutes(book: SessionBook, clock: Clock, read: () => unknown): RouteModule {
  return {
    endpoints: [
      {
        method: 'GET',
        path: '/sessions',
        description: 'Sessions seen recently (bounded, expiring): project, model, activity, prompts, tool calls, tokens and cost, last decision.',
      },
    ],
    mount(router, { guard, json, hooksJson }) {
      router.get('/sessions', (_req, res) => {
        res.json(read());
      });
      const recordHook: RequestHandler = (req, res, next) => {
        const hook = readHookInput(pathEventOf(req.params), req.body);
        if (hook.ok) {
          const sessionId = typeof hook.input.session_id === 'string' ? hook.input.session_id : null;
          book.hookInput(hook.event, hook.input, clock.now());
          recordAnswer(res, (body) => book.decision({ at: clock.now(), sessionId, event: hook.event, ...readHookAnswer(body) }));
        }
        next();
      };
      router.post(HOOK_PATHS.byEvent, hooksJson, recordHook);
      router.post(HOOK_PATHS.byInput, hooksJson, recordHook);
      // Same guard and parser as the status line route after it, so nothing unauthorised is recorded.
      router.post('/statusline', guard, json, (req: Request, _res, next) => {
        if (isJsonObject(req.body)) book.statusline(req.body, clock.now());
        next();
      });
    },
  };
}

/** The decision routes answer with res.json: the answer is read on its way out. */
function recordAnswer(res: Response, record: (body: unknown) => void): void {
  const send = res.json.bind(res);
  res.json = (body: unknown) => {
    if (res.statusCode < 400) record(body);
    return send(body);
  };
}
