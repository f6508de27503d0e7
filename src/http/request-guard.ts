import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import type { BridgeConfig } from '../config/schema.js';

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost']);
/** Content types a page can send cross-site without asking (HTML forms, a plain fetch). */
const SIMPLE_CONTENT_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

/**
 * Nothing a web page in the user's browser can do may reach the bridge:
 * - the Host header must name the bridge (loopback, an IP address, or `server.allowed_hosts`),
 *   so a page on a DNS-rebound name of its own is refused (it could otherwise read the API);
 * - a request with a browser `Origin` must come from the bridge's own pages or
 *   `server.allowed_origins` (a cross-site page could otherwise pause or resume Claude Code);
 * - a body must be JSON: the content types an HTML form or a no-preflight fetch can send are refused.
 * Claude Code's hooks, send_event.py, the status line and Alertmanager send no Origin and JSON bodies.
 */
export function requestGuard(config: BridgeConfig['server']): RequestHandler {
  const allowedHosts = new Set(config.allowed_hosts.map((h) => h.toLowerCase()));
  const allowedOrigins = new Set(config.allowed_origins.map((o) => new URL(o).origin));
  return (req, res, next) => {
    const host = req.get('host') ?? '';
    if (!hostAllowed(host, allowedHosts)) {
      res.status(403).json({ error: `requests for host "${host.slice(0, 100)}" are refused: add the name to server.allowed_hosts to use it` });
      return;
    }
    const origin = req.get('origin');
    if (origin !== undefined && !originAllowed(origin, host, allowedOrigins)) {
      res.status(403).json({ error: `requests from the web page at ${origin.slice(0, 100)} are refused: add it to server.allowed_origins to allow it` });
      return;
    }
    if (req.method === 'OPTIONS') {
      // No CORS: a preflight gets no permission, and says so.
      res.status(405).json({ error: 'OPTIONS is not supported: the bridge answers no cross-origin requests' });
      return;
    }
    if (hasBody(req.headers) && !isJson(req.get('content-type'))) {
      const type = req.get('content-type') ?? 'none';
      res.status(415).json({ error: `request bodies must be JSON (Content-Type: application/json), not ${type.slice(0, 100)}` });
      return;
    }
    next();
  };
}

function hostAllowed(hostHeader: string, allowed: Set<string>): boolean {
  const name = hostName(hostHeader);
  if (name === null) return false;
  return LOOPBACK_NAMES.has(name) || isIP(name) !== 0 || allowed.has(name);
}

/** `name:port`, `[v6]:port` or `name` → the name, lower case; null when malformed. */
function hostName(hostHeader: string): string | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/i.exec(hostHeader.trim());
  if (!match) return null;
  return (match[1] ?? match[2] ?? '').toLowerCase().replace(/\.$/, '');
}

function originAllowed(origin: string, hostHeader: string, allowed: Set<string>): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
  if (url.host.toLowerCase() === hostHeader.toLowerCase()) return true; // the bridge's own pages
  return allowed.has(url.origin);
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined || SIMPLE_CONTENT_TYPE.test(contentType)) return false;
  return /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
}
