import type { RouteModule } from '../component.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { statusSummary, type StatusDeps } from './routes-status-page.js';

/** How often a stream gets the summary (the page's countdown ticks on its own in between). */
export const STREAM_INTERVAL_MS = 1000;
/** Each open stream is a socket: beyond this many, a new one is refused (the page falls back to polling). */
export const MAX_STREAMS = 20;

/**
 * `GET /status/stream`: server-sent events, one `status` event with the summary of GET /status at
 * once and then every second on the bridge's clock, so the page updates without polling.
 */
export function eventsStreamRoutes(deps: StatusDeps & { clock: Clock; logger: Logger }): RouteModule {
  let open = 0;
  return {
    endpoints: [{ method: 'GET', path: '/status/stream', description: 'Server-sent events: the GET /status summary at once, then every second.' }],
    mount(router) {
      router.get('/status/stream', (req, res) => {
        if (open >= MAX_STREAMS) {
          res.status(503).json({ error: `at most ${MAX_STREAMS} status streams at once; poll GET /status instead` });
          return;
        }
        open += 1;
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
        res.write('retry: 2000\n\n');
        let timer: TimerHandle | null = null;
        let closed = false;
        const send = async () => {
          try {
            const summary = await statusSummary(deps);
            if (!closed) res.write(`event: status\ndata: ${JSON.stringify(summary)}\n\n`);
          } catch (error) {
            deps.logger.warn('status stream update failed', { error: errorMessage(error) });
          }
          if (!closed) timer = deps.clock.setTimeout(() => void send(), STREAM_INTERVAL_MS);
        };
        req.on('close', () => {
          closed = true;
          open -= 1;
          if (timer) deps.clock.clearTimeout(timer);
        });
        void send();
      });
    },
  };
}
