import express, { Router, type Express } from 'express';
import type { BridgeConfig } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import { requireToken } from './auth.js';
import { errorHandler, notFound } from './errors.js';
import type { RouteModule } from '../component.js';

export function createHttpApp(config: BridgeConfig, logger: Logger, modules: RouteModule[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const context = {
    logger,
    guard: requireToken(config.auth.token),
    json: express.json({ limit: config.server.body_limit, strict: false }),
    largeJson: express.json({ limit: config.server.events_body_limit, strict: false }),
  };
  const endpoints = modules.flatMap((m) => m.endpoints);
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
