import { validateConfig, type BridgeConfig } from '../../src/config/index.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** A validated config: built-in defaults plus the given overrides. */
export function testConfig(overrides: DeepPartial<BridgeConfig> = {}): BridgeConfig {
  return validateConfig(overrides, 'test');
}
