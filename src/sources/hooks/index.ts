import type { ComponentFactory } from '../../component.js';
import { expandHome } from '../../config/index.js';
import { HookActivity } from './activity.js';
import { hookRoutes } from './routes.js';
import { HookEventSink } from './sink.js';
import { HooksServerSource } from './hooks-server.js';

/**
 * Hook events: the hooks server's WebSocket (when enabled), HTTP ingestion, the inputs of
 * Claude Code's HTTP hooks (answered by src/http/routes-hooks.ts), and the hook-activity metrics.
 */
export const hooksComponent: ComponentFactory = ({ config, registry, clock, logger, report }) => {
  const log = logger.child({ component: 'hooks' });
  const activity = new HookActivity(registry, clock, config.hooks);
  const sink = new HookEventSink(activity, report, clock);
  const websocket = new HooksServerSource({
    config: config.hooks_server,
    stateDir: expandHome(config.state.dir),
    registry,
    clock,
    logger: log.child({ source: 'hooks_server' }),
    activity,
    sink,
  });
  return {
    name: 'hooks',
    routes: hookRoutes({ clock, activity, sink }),
    health: [websocket.health],
    section: {
      key: 'hooks_data',
      read: async () => {
        websocket.flushCursor(); // the counts are about to be shown: the cursor must say they were counted
        return { ...(await activity.summary()), websocket: websocket.summary() };
      },
    },
    start: () => websocket.start(),
    stop: () => websocket.stop(),
  };
};
