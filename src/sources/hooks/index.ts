import type { ComponentFactory } from '../../bridge.js';
import { HookActivity } from './activity.js';
import { hookRoutes } from './routes.js';
import { HookEventSink } from './sink.js';
import { HooksWebSocketClient } from './websocket-client.js';

/**
 * Hook events: the hooks server's WebSocket (when enabled), HTTP ingestion, Claude Code's HTTP
 * hooks answered with recovery decisions, and the hook-activity metrics.
 */
export const hooksComponent: ComponentFactory = ({ config, registry, clock, logger, controller }) => {
  const log = logger.child({ component: 'hooks' });
  const activity = new HookActivity(registry, clock, config.hooks);
  const sink = new HookEventSink(activity, controller, clock, config, log);
  const websocket = new HooksWebSocketClient({
    config: config.hooks_server,
    registry,
    clock,
    logger: log.child({ source: 'hooks_server' }),
    activity,
    sink,
  });
  return {
    name: 'hooks',
    routes: hookRoutes({ config, clock, logger: log, controller, activity, sink }),
    health: [websocket.health],
    hooksSummary: { summary: () => ({ ...activity.summary(), websocket: websocket.summary() }) },
    websocketState: () => websocket.state,
    start: () => websocket.start(),
    stop: () => websocket.stop(),
  };
};
