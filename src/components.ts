import type { ComponentFactory } from './bridge.js';
import type { BridgeConfig } from './config/schema.js';

/** The sources a standalone `serve` runs with, per the config. */
export function defaultComponents(_config: BridgeConfig): ComponentFactory[] {
  return [];
}
