import type { ComponentFactory } from './bridge.js';
import type { BridgeConfig } from './config/schema.js';
import { hooksComponent } from './sources/hooks/index.js';
import { usageComponent } from './sources/usage/index.js';

/** The sources a standalone `serve` runs with, per the config. */
export function defaultComponents(_config: BridgeConfig): ComponentFactory[] {
  return [hooksComponent, usageComponent];
}
