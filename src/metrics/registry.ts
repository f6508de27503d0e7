import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BRIDGE_VERSION } from '../version.js';

export const METRIC_PREFIX = 'claude_bridge_';

/** The registry the app owns: never prom-client's global one. */
export function createRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  }
  const buildInfo = new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: 'Build information of the bridge; always 1.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  buildInfo.set({ version: BRIDGE_VERSION, node_version: process.version }, 1);
  return registry;
}

/** Returns the metric already registered under `name`, or registers the one `create` makes. */
export function sharedMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
