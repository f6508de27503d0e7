import { ConfigError, loadConfig } from '../config/index.js';
import { Bridge } from '../bridge.js';
import { defaultComponents } from '../components.js';
import { createLogger } from '../util/logger.js';
import { errorMessage } from '../util/errors.js';
import { intOption, type Command } from './command.js';

export const serveCommand: Command = {
  name: 'serve',
  usage: `claude-bridge serve [--config PATH] [--port N] [--host H]

  --config PATH   config file (default ./config.yaml; env CLAUDE_BRIDGE_CONFIG); built-in defaults when absent
  --port N        listen port (default 8080; env CLAUDE_BRIDGE_PORT)
  --host H        listen address (default 127.0.0.1; env CLAUDE_BRIDGE_HOST)

Environment: LOG_LEVEL, CLAUDE_BRIDGE_HOOKS_URL, CLAUDE_BRIDGE_AUTH_TOKEN, CLAUDE_BRIDGE_STATE_DIR.`,
  options: {
    config: { type: 'string', short: 'c' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
  },
  async run(values, io) {
    let loaded;
    try {
      const port = intOption(values, 'port');
      loaded = loadConfig(
        {
          ...(typeof values.config === 'string' ? { configPath: values.config } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(typeof values.host === 'string' ? { host: values.host } : {}),
        },
        io.env,
        io.cwd,
      );
    } catch (error) {
      if (error instanceof ConfigError) {
        io.stderr(`claude-bridge: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    const { config } = loaded;
    const logger = createLogger({ level: config.logging.level, file: config.logging.file, write: io.stdout });
    for (const notice of loaded.notices) logger.info(notice);
    if (loaded.file) logger.info('configuration loaded', { file: loaded.file });
    const bridge = new Bridge({ config, logger, components: defaultComponents() });
    try {
      await bridge.start();
    } catch (error) {
      logger.error('bridge could not start', { error: errorMessage(error), host: config.server.host, port: config.server.port });
      await bridge.stop();
      return 1;
    }
    return new Promise<number>((resolve) => {
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info('shutting down', { signal });
        bridge.stop().then(
          () => resolve(0),
          (error: unknown) => {
            logger.error('shutdown failed', { error: errorMessage(error) });
            resolve(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
  },
};
