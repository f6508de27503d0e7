import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { RateLimitHits } from '../../../src/alerts/rate-limit-hits.js';
import type { BridgeComponent } from '../../../src/component.js';
import type { BridgeConfig } from '../../../src/config/index.js';
import { RecoveryController } from '../../../src/recovery/controller.js';
import { MemoryStateStore } from '../../../src/recovery/store.js';
import type { HooksData } from '../../../src/sources/hooks/data.js';
import { hooksComponent } from '../../../src/sources/hooks/index.js';
import { silentLogger } from '../../../src/util/logger.js';
import { ManualClock } from '../../support/manual-clock.js';

/** After every recorded fixture timestamp (2026-11-25 ~16:15 UTC). */
export const AFTER_FIXTURES = Date.parse('2026-11-25T16:30:00Z');

export interface ComponentHarness {
  component: BridgeComponent;
  /** `state.dir`: where the hooks server cursor is kept (a new harness over it is a restarted bridge). */
  stateDir: string;
  registry: Registry;
  clock: ManualClock;
  controller: RecoveryController;
  /** The component's `hooks_data` section of GET /metrics. */
  summary(): Promise<HooksData>;
  healthDetails(): Record<string, unknown>;
  /** The hooks server connection's state, as /health shows it. */
  websocketState(): string;
}

/** A fresh `state.dir` for a test, never the user's. */
export function tempStateDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'bridge-hooks-state-'));
}

/** The hooks component on a fresh registry and a manual clock, as the bridge wires it, with its own `state.dir`. */
export function hooksHarness(config: BridgeConfig, clock = new ManualClock(AFTER_FIXTURES), stateDir = tempStateDir()): ComponentHarness {
  config = { ...config, state: { ...config.state, dir: stateDir } };
  const registry = new Registry();
  const controller = new RecoveryController({ config, clock, store: new MemoryStateStore(), logger: silentLogger });
  controller.start();
  const report = new RateLimitHits(controller, clock, config, silentLogger);
  const component = hooksComponent({ config, registry, clock, logger: silentLogger, report, recoveryState: () => controller.snapshot().state });
  const healthDetails = () => component.health![0]!.status().details;
  return {
    component,
    stateDir,
    registry,
    clock,
    controller,
    summary: async () => (await component.section!.read()) as HooksData,
    healthDetails,
    websocketState: () => String(healthDetails().state),
  };
}
