import { Registry } from 'prom-client';
import type { BridgeComponent } from '../../../src/bridge.js';
import type { BridgeConfig } from '../../../src/config/index.js';
import type { HooksData } from '../../../src/metrics/summary.js';
import { RecoveryController } from '../../../src/recovery/controller.js';
import { MemoryStateStore } from '../../../src/recovery/store.js';
import { hooksComponent } from '../../../src/sources/hooks/index.js';
import { silentLogger } from '../../../src/util/logger.js';
import { ManualClock } from '../../support/manual-clock.js';

/** After every recorded fixture timestamp (2026-11-25 ~16:15 UTC). */
export const AFTER_FIXTURES = Date.parse('2026-11-25T16:30:00Z');

export interface ComponentHarness {
  component: BridgeComponent;
  registry: Registry;
  clock: ManualClock;
  controller: RecoveryController;
  summary(): HooksData;
  healthDetails(): Record<string, unknown>;
}

/** The hooks component on a fresh registry and a manual clock, as the bridge wires it. */
export function hooksHarness(config: BridgeConfig, clock = new ManualClock(AFTER_FIXTURES)): ComponentHarness {
  const registry = new Registry();
  const controller = new RecoveryController({ config, clock, store: new MemoryStateStore(), logger: silentLogger });
  controller.start();
  const component = hooksComponent({ config, registry, clock, logger: silentLogger, controller });
  return {
    component,
    registry,
    clock,
    controller,
    summary: () => component.hooksSummary!.summary()!,
    healthDetails: () => component.health![0]!.status().details,
  };
}
