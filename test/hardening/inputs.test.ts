import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createUsageComponent } from '../../src/sources/usage/index.js';
import { nextDayAt } from '../../src/recovery/backoff.js';
import { RecoveryController } from '../../src/recovery/controller.js';
import { FileStateStore, MemoryStateStore, STATE_FILE, type PersistedState } from '../../src/recovery/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

/** A store whose disk can be filled and emptied. */
class FullDiskStore extends MemoryStateStore {
  full = false;
  override save(state: PersistedState): void {
    if (this.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    super.save(state);
  }
}

describe('times from any input are checked (issue 10, points 1 and 2)', () => {
  let api: RunningBridge;
  afterEach(async () => api?.stop());

  it('an implausible resets_at is refused with 400 and changes nothing', async () => {
    api = await startBridge({ clock: new ManualClock(NOW) });
    for (const resets_at of [1e13, 1e300, NOW / 1000 + 30 * 86_400, NOW / 1000 - 60]) {
      const answer = await api.post('/alerts/time_limit', { resets_at });
      expect({ resets_at, status: answer.status, error: answer.body.error }).toEqual({
        resets_at,
        status: 400,
        error: expect.stringContaining('resets_at must lie ahead, at most 8 days'),
      });
    }
    expect((await api.get('/recovery/status')).body.state).toBe('normal');
    const ok = await api.post('/alerts/time_limit', { resets_at: NOW / 1000 + 3600 });
    expect(ok.status).toBe(200);
    expect(ok.body.recovery.paused_until).toBe(new Date(NOW + 3_600_000).toISOString());
  });

  it('a status line with an out-of-range reset time is taken without its reset; nothing breaks, a pause falls back', async () => {
    const clock = new ManualClock(NOW);
    api = await startBridge({ clock, config: testConfig({ usage: { source: 'none' } }), components: [createUsageComponent({ timeZone: 'UTC' })] });
    const line = { rate_limits: { five_hour: { used_percentage: 50, resets_at: 8_640_000_000_000_001 }, seven_day: { used_percentage: 10, resets_at: 'not a time' } } };
    expect((await api.post('/statusline', line)).status).toBe(200);
    expect((await api.get('/statusline')).body.five_hour).toEqual({ used_ratio: 0.5, source: 'official', resets_at: null });
    expect((await api.get('/metrics')).status).toBe(200);
    expect((await api.get('/prometheus')).status).toBe(200);
    expect((await api.post('/alerts/time_limit', {})).status).toBe(200); // resumes at the fallback hour instead
    // 09:00 tomorrow in the bridge's zone (recovery.pause.fallback_resume_hour), whatever the zone is
    expect((await api.get('/recovery/status')).body.paused_until).toBe(new Date(nextDayAt(NOW, 9)).toISOString());
  });
});

describe('a saved state that is out of range never stops the bridge from starting (issue 10, point 1)', () => {
  function saved(overrides: Partial<PersistedState>): PersistedState {
    return {
      version: 1,
      savedAt: NOW,
      alerts: [{ type: 'time_limit', since: NOW, origins: [{ origin: 'manual', key: '', since: NOW, startedAt: null, expiresAt: null, summary: null }] }],
      backoff: { attempt: 0, delayMs: 0, until: null, resolvedAt: null },
      pausedUntil: NOW + 3_600_000,
      state: { name: 'paused', since: NOW },
      ...overrides,
    };
  }

  function start(dir: string) {
    const controller = new RecoveryController({ config: testConfig(), clock: new ManualClock(NOW), store: new FileStateStore(dir, () => NOW), logger: silentLogger });
    return { controller, result: controller.start() };
  }

  it('a time no Date can hold: the file is kept aside, reported, and the bridge starts normal', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    writeFileSync(path.join(dir, STATE_FILE), JSON.stringify(saved({ pausedUntil: 1e16 })));
    const { controller, result } = start(dir);
    expect(result).toMatchObject({ restored: false, problem: expect.stringContaining('pausedUntil') });
    expect(controller.snapshot().state).toBe('normal');
    expect(readdirSync(dir).some((f) => f.includes('.corrupt-'))).toBe(true);
  });

  it('a pause that ends implausibly far ahead is dropped; the rest is restored', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    writeFileSync(path.join(dir, STATE_FILE), JSON.stringify(saved({ pausedUntil: NOW + 30 * 86_400_000 })));
    const { controller, result } = start(dir);
    expect(result.restored).toBe(true);
    expect(controller.snapshot()).toMatchObject({ pausedUntil: null, activeAlerts: [expect.objectContaining({ type: 'time_limit' })] });
  });

  it('temp files of crashed writers are removed at start, and a failed write leaves none', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-state-'));
    for (const pid of [111, 222]) writeFileSync(path.join(dir, `${STATE_FILE}.${pid}.tmp`), '{"half":');
    const store = new FileStateStore(dir, () => NOW);
    expect(store.load().state).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
    mkdirSync(path.join(dir, STATE_FILE)); // the rename cannot replace a folder
    expect(() => store.save(saved({}))).toThrow();
    expect(readdirSync(dir)).toEqual([STATE_FILE]);
  });
});

describe('a change is acknowledged only once it is durable (issue 10, point 4)', () => {
  let api: RunningBridge;
  afterEach(async () => api?.stop());

  it('a full disk answers 503 to every change; once there is room, the retry saves it and /health recovers by itself', async () => {
    const clock = new ManualClock(NOW);
    const store = new FullDiskStore();
    api = await startBridge({ clock, store, config: testConfig({ alerting: { mode: 'alertmanager' } }) });
    store.full = true;
    const fired = await api.post('/alerts/time_limit', { resets_at: NOW / 1000 + 3600 });
    expect(fired.status).toBe(503);
    expect(fired.body.error).toContain('could not be saved');
    expect((await api.post('/recovery/resume')).status).toBe(503);
    const notice = {
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'X', alert_type: 'rate_limit' }, startsAt: new Date(NOW).toISOString(), fingerprint: 'fp1' }],
    };
    expect((await api.post('/alertmanager/webhook', notice)).status).toBe(503);
    expect((await api.get('/health')).status).toBe(503);

    store.full = false;
    clock.advance(5000); // the controller tries the write again by itself
    expect((await api.get('/health')).status).toBe(200);
    expect(store.saved?.alerts.map((a) => a.type).sort()).toEqual(['rate_limit']);
    expect((await api.post('/alertmanager/webhook', notice)).body.alerts[0].result).toBe('unchanged'); // the retry is a no-op
  });
});
