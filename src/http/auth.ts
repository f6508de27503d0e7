import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/** Requires `Authorization: Bearer <token>` when a token is configured; open otherwise. */
export function requireToken(token: string | null): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = Buffer.from(token);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(match?.[1]?.trim() ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="claude-bridge"')
      .json({ error: 'missing or wrong bearer token (auth.token is set): send Authorization: Bearer <token>' });
  };
}
