import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecoveryController } from '../../src/recovery/controller.js';
import { FileStateStore, STATE_FILE } from '../../src/recovery/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { ManualClock } from '../support/manual-clock.js';
import { testConfig } from '../support/config.js';

const RESET = Date.parse('2026-11-25T15:00:00Z');

function controllerAt(dir: string, clock: ManualClock) {
  const controller = new RecoveryController({
    config: testConfig(),
    clock,
    store: new FileStateStore(dir, () => clock.now()),
    logger: silentLogger,
    windowResetsAt: () => RESET,
  });
  return { controller, started: controller.start() };
}

describe('recovery state persistence', () => {
  it('a bridge restarted during a pause stays paused until its resume time, then resumes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
    const first = controllerAt(dir, clock).controller;
    first.fire({ type: 'time_limit', origin: 'manual' });
    first.stop();

    clock.advance(60 * 60 * 1000);
    const { controller, started } = controllerAt(dir, clock);
    expect(started.restored).toBe(true);
    expect(controller.snapshot()).toMatchObject({ state: 'paused', pausedUntil: RESET });
    clock.advance(RESET - clock.now());
    expect(controller.snapshot().state).toBe('normal');
  });

  it('restores backoff attempts and alerts from Alertmanager, but not the embedded evaluator’s firings', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    const clock = new ManualClock();
    const first = controllerAt(dir, clock).controller;
    first.fire({ type: 'rate_limit', origin: 'alertmanager', key: 'fp', startedAt: 1 });
    first.fire({ type: 'rate_limit', origin: 'manual' });
    first.fire({ type: 'cost_threshold', origin: 'embedded' });
    first.stop();
    const { controller } = controllerAt(dir, clock);
    const snapshot = controller.snapshot();
    expect(snapshot.activeAlerts.map((a) => a.type)).toEqual(['rate_limit']);
    expect(snapshot.backoff).toMatchObject({ active: true, attempt: 2, delayMs: 2000 });
    expect(controller.fire({ type: 'rate_limit', origin: 'alertmanager', key: 'fp', startedAt: 1 }).changed).toBe(false);
  });

  it('writes atomically: only the state file remains, never a temp file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    const { controller } = controllerAt(dir, new ManualClock());
    controller.fire({ type: 'cost_threshold', origin: 'manual' });
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
    expect(JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8'))).toMatchObject({ version: 1, state: { name: 'degraded' } });
  });

  it.each([
    ['not JSON', '{"version": 1, "alerts": ['],
    ['wrong shape', '{"version": 2}'],
    ['empty', ''],
  ])('a corrupt state file (%s) is reported, kept aside and replaced — no crash', (_label, content) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    writeFileSync(path.join(dir, STATE_FILE), content);
    const clock = new ManualClock();
    const { controller, started } = controllerAt(dir, clock);
    expect(started.restored).toBe(false);
    expect(started.problem).toBeTruthy();
    expect(started.keptAs).toBe(path.join(dir, `${STATE_FILE}.corrupt-${clock.now()}`));
    expect(readFileSync(started.keptAs!, 'utf8')).toBe(content);
    expect(controller.snapshot().state).toBe('normal');
    expect(JSON.parse(readFileSync(path.join(dir, STATE_FILE), 'utf8')).version).toBe(1);
  });

  it('an unwritable state directory is reported, not thrown, and clears when writes work again', () => {
    if (process.getuid?.() === 0) {
      // root ignores permissions: make the target a file so mkdir fails instead
      const parent = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
      const blocked = path.join(parent, 'blocked');
      writeFileSync(blocked, 'not a directory');
      const { controller } = controllerAt(path.join(blocked, 'state'), new ManualClock());
      expect(() => controller.fire({ type: 'rate_limit', origin: 'manual' })).not.toThrow();
      expect(controller.persistenceError()).toMatch(/ENOTDIR|EEXIST/);
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    const locked = path.join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const { controller } = controllerAt(locked, new ManualClock());
    expect(controller.persistenceError()).toMatch(/EACCES/);
    chmodSync(locked, 0o700);
    controller.fire({ type: 'rate_limit', origin: 'manual' });
    expect(controller.persistenceError()).toBeNull();
    expect(existsSync(path.join(locked, STATE_FILE))).toBe(true);
  });
});
