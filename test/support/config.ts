import { validateConfig, type BridgeConfig } from '../../src/config/index.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/**
 * A validated config: built-in defaults plus the given overrides, except that the OTLP receiver
 * takes any free port unless told: test files run in parallel (and beside `docker compose`, which
 * publishes 4318), and two bridges on one fixed port would receive each other's telemetry.
 */
export function testConfig(overrides: DeepPartial<BridgeConfig> = {}): BridgeConfig {
  return validateConfig({ ...overrides, otlp: { port: 0, ...overrides.otlp } }, 'test');
}
