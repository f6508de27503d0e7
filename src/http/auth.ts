import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * Requires `Authorization: Bearer <token>` when a token is configured; open otherwise. Both sides
 * are hashed before the constant-time comparison, so neither the token nor its length leaks
 * through the time an answer takes.
 */
export function requireToken(token: string | null): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match && timingSafeEqual(digest(match[1]!), expected)) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="claude-bridge"')
      .json({ error: 'missing or wrong bearer token (auth.token is set): send Authorization: Bearer <token>' });
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
