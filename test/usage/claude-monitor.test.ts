import type { BridgeConfig } from '../../src/config/index.js';
import { ClaudeMonitorSource, parseClaudeMonitorRun, UPGRADE_HINT } from '../../src/sources/usage/claude-monitor.js';
import { OfficialRateLimits } from '../../src/sources/statusline/official-limits.js';
import { UsageState } from '../../src/sources/usage/state.js';
import { readFixture } from '../support/fixtures.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { TempDirs, writeClaudeMonitorStandIn, type StandInOptions } from './support/usage.js';

const SNAPSHOT_TIME = Date.parse('2026-11-25T16:20:00Z');
const fixtureText = readFixture('claude-monitor', 'v4-once-json-snapshot.json');

describe('claude-monitor source (stand-in executables)', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  function standIn(options: StandInOptions = {}, usage: Partial<BridgeConfig['usage']> = {}) {
    const dir = dirs.make('claude-monitor-');
    const script = writeClaudeMonitorStandIn(dir, options);
    const config = testConfig({ usage: { claude_monitor_path: script.path, ...usage } });
    const source = new ClaudeMonitorSource({ usage: config.usage, env: { PATH: '' }, now: () => SNAPSHOT_TIME });
    return { source, script, config };
  }

  it('reads the v4 snapshot fixture: block, families, official windows, its own limit', async () => {
    const { source, script } = standIn();
    const snapshot = await source.poll();
    expect(script.calls()).toEqual(['--version', '--once --output json --plan max5']);
    expect(snapshot.source).toBe('claude-monitor');
    expect(snapshot.details).toMatchObject({ exit_code: 0, status: 'ok', version: '4.0.0', plan: 'max5' });
    const block = snapshot.activeBlock!;
    expect(block.start).toBe(Date.parse('2026-11-25T13:00:00Z'));
    expect(block.end).toBe(Date.parse('2026-11-25T18:00:00Z'));
    expect(block.tokens).toEqual({ input: 21035, output: 33410, cache_creation: 61200, cache_read: 240118 });
    expect(block.costUsd).toBe(7.4213);
    expect(block.byFamily).toEqual({ sonnet: { tokens: 12001 + 19740, costUsd: 3.1022 }, opus: { tokens: 9034 + 13670, costUsd: 4.3191 } });
    // claude-monitor's rate counts all four kinds; the bridge's input+output share of it:
    expect(block.burnRate!.tokensPerMinute).toBeCloseTo(1474.2 * (54445 / 355763), 9);
    expect(block.burnRate!.usdPerHour).toBe(1.8402);
    expect(snapshot.rateLimits).toEqual({
      five_hour: { usedRatio: 0.62, resetsAt: 1795629600_000, source: 'official' },
      seven_day: { usedRatio: expect.closeTo(0.412, 12), resetsAt: 1795856400_000, source: 'official' },
    });
    expect(snapshot.tokenLimit).toBe(88_000);
  });

  it('feeds figures: the limit is claude-monitor\'s own, the ratio counts input+output', async () => {
    const { source, config } = standIn();
    const clock = new ManualClock(SNAPSHOT_TIME);
    const state = new UsageState(config.usage, clock, new OfficialRateLimits(300_000), 'UTC');
    state.snapshot = await source.poll();
    const figures = state.figures();
    expect(figures.block!.tokenLimit).toEqual({ tokens: 88_000, basis: 'claude-monitor' });
    expect(figures.block!.usedRatio).toBeCloseTo(54_445 / 88_000, 12);
    expect(figures.rateLimits.five_hour).toEqual({ usedRatio: 0.62, resetsAt: 1795629600_000, source: 'official' });
    expect(figures.sessionSeconds).toBe((SNAPSHOT_TIME - Date.parse('2026-11-25T13:00:00Z')) / 1000);
  });

  it('runs with --plan custom when the token limit is p90 (claude-monitor computes its P90)', async () => {
    const { source, script } = standIn({}, { token_limit: 'p90' });
    await source.poll();
    expect(script.calls()[1]).toBe('--once --output json --plan custom');
  });

  it.each([
    [10, 'near_limit'],
    [11, 'limit_hit'],
  ])('treats exit code %i as data (%s)', async (exitCode, status) => {
    const { source } = standIn({ exitCode });
    const snapshot = await source.poll();
    expect(snapshot.details).toMatchObject({ exit_code: exitCode, status });
    expect(snapshot.activeBlock).not.toBeNull();
  });

  it('treats exit code 20 as "no active session", with or without a snapshot', async () => {
    const withSnapshot = await standIn({ exitCode: 20 }).source.poll();
    expect(withSnapshot.activeBlock).toBeNull();
    expect(withSnapshot.rateLimits.seven_day?.usedRatio).toBeCloseTo(0.412, 12);
    const empty = await standIn({ exitCode: 20, stdout: '' }).source.poll();
    expect(empty).toMatchObject({ activeBlock: null, details: { status: 'no_active_session' } });
  });

  it('treats exit code 30 as an error carrying its message', async () => {
    const { source } = standIn({ exitCode: 30, stdout: '', stderr: 'no Claude data found in /home/dev/.claude/projects' });
    await expect(source.poll()).rejects.toThrow('claude-monitor reported an error: no Claude data found in /home/dev/.claude/projects');
  });

  it('refuses garbage on stdout and unknown exit codes', async () => {
    await expect(standIn({ stdout: '\u001b[2J✦ CLAUDE CODE USAGE MONITOR ✦\n' }).source.poll()).rejects.toThrow(/printed no JSON snapshot/);
    await expect(standIn({ exitCode: 3 }).source.poll()).rejects.toThrow(/unexpected code 3/);
    await expect(standIn({ stdout: JSON.stringify({ schema_version: '2.0' }) }).source.poll()).rejects.toThrow(/schema 2.0 is not supported/);
  });

  it('kills a hung run (and its children) at the timeout', async () => {
    // The stand-in hangs past the test's own timeout: only a kill lets the poll settle.
    const { source } = standIn({ hangSeconds: 60 }, { timeout_s: 0.5 });
    await expect(source.poll()).rejects.toThrow(/did not finish within 500 ms/);
  });

  it('kills a run that prints more than max_output_bytes', async () => {
    const { source } = standIn({ stdout: 'x'.repeat(200_000), hangSeconds: 0 }, { max_output_bytes: 4096 });
    await expect(source.poll()).rejects.toThrow(/printed more than 4096 bytes and was killed/);
  });

  it('refuses v3 with the upgrade hint and never runs its TUI', async () => {
    const { source, script } = standIn({ version: 'claude-monitor 3.1.0' });
    expect(await source.probe()).toMatchObject({ found: true, version: '3.1.0', supported: false });
    await expect(source.poll()).rejects.toThrow(`claude-monitor 3.1.0 is not supported: ${UPGRADE_HINT}`);
    expect(script.calls()).toEqual(['--version']); // the version was read once; --once was never run
    expect(UPGRADE_HINT).toContain('uv tool upgrade claude-monitor');
  });

  it('finds claude-monitor on PATH, and says so when it is absent', async () => {
    const dir = dirs.make('claude-monitor-path-');
    writeClaudeMonitorStandIn(dir);
    const usage = testConfig().usage;
    const onPath = new ClaudeMonitorSource({ usage, env: { PATH: `/nonexistent:${dir}` }, now: () => SNAPSHOT_TIME });
    expect(await onPath.probe()).toMatchObject({ found: true, path: `${dir}/claude-monitor`, supported: true });
    const absent = new ClaudeMonitorSource({ usage, env: { PATH: '/nonexistent' }, now: () => SNAPSHOT_TIME });
    expect(await absent.probe()).toEqual({ found: false, reason: 'claude-monitor not found on PATH' });
    await expect(absent.poll()).rejects.toThrow('claude-monitor not found on PATH');
  });

  it('parses tolerantly: unknown fields pass, wrong types read as absent', () => {
    const document = JSON.parse(fixtureText) as Record<string, any>;
    document.new_top_level = { anything: true };
    document.local.cost_usd = 'n/a';
    document.limits.seven_day = null;
    document.confidence = 'local_estimate';
    document.limits.five_hour.confidence = 'local_estimate';
    const snapshot = parseClaudeMonitorRun(0, JSON.stringify(document), '', SNAPSHOT_TIME);
    expect(snapshot.activeBlock!.costUsd).toBe(0);
    expect(snapshot.rateLimits).toEqual({ five_hour: { usedRatio: 0.62, resetsAt: 1795629600_000, source: 'estimate' } });
  });
});
