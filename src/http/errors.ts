import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';


export const notFound: RequestHandler = (req, res) => {
  const path = req.path.length > 100 ? `${req.path.slice(0, 100)}…` : req.path;
  res.status(404).json({ error: `no such endpoint: ${req.method} ${path}`, hint: 'GET / lists the endpoints' });
};

/** JSON errors everywhere; stack traces only in the log. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: error.message, ...error.details });
      return;
    }
    const e = error as { type?: string; status?: number; message?: string; limit?: number };
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: `invalid JSON body: ${e.message ?? 'parse error'}` });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: `request body too large (limit ${e.limit ?? '?'} bytes)` });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: e.message ?? 'bad request' });
      return;
    }
    logger.error('request failed', { method: req.method, path: req.path, error: e.message, stack: (error as Error)?.stack });
    res.status(500).json({ error: 'internal error' });
  };
}
