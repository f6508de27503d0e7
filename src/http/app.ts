import express, { Router, type Express, type RequestHandler } from 'express';
import { HttpError } from '../util/errors.js';
import type { BridgeConfig } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import { requireToken } from './auth.js';
import { errorHandler, notFound } from './errors.js';
import { requestGuard } from './request-guard.js';
import type { RouteModule } from '../component.js';

/** Deeper than this is no input of Claude Code's, Alertmanager's or a hook script's: refused, not recursed into. */
export const MAX_JSON_DEPTH = 64;

function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit, strict: false });
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (depthOf(req.body as unknown) > MAX_JSON_DEPTH) {
        return next(new HttpError(400, `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`));
      }
      next();
    });
  };
}

/** Nesting depth of a parsed JSON value, without recursion (a hostile body must not blow the stack). */
export function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** `statusPage` answers `GET /` for browsers (HTML); API clients get the JSON listing. */
export function createHttpApp(config: BridgeConfig, logger: Logger, modules: RouteModule[], statusPage?: RequestHandler): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const context = {
    logger,
    guard: requireToken(config.auth.token),
    json: jsonBody(config.server.body_limit),
    largeJson: jsonBody(config.server.events_body_limit),
    hooksJson: jsonBody(config.server.hooks_body_limit),
  };
  app.use(requestGuard(config.server));
  const endpoints = modules.flatMap((m) => m.endpoints);
  if (statusPage) app.get('/', statusPage);
  app.get('/', (_req, res) => {
    res.json({
      name: 'claude-monitoring-bridge',
      endpoints: endpoints.map((e) => ({
        method: e.method,
        path: e.path,
        description: e.description,
        ...(e.mutating ? { auth: config.auth.token ? 'bearer token required' : 'open (auth.token not set)' } : {}),
      })),
    });
  });
  const router = Router();
  for (const module of modules) module.mount(router, context);
  app.use(router);
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
