import { ALERT_INPUT_METRICS } from '../../src/component.js';
import type { BridgeConfig } from '../../src/config/index.js';
import { CcusageRunner } from '../../src/sources/usage/ccusage.js';
import { parseCcusageBlocks, parseCcusageDaily } from '../../src/sources/usage/ccusage-json.js';
import { buildUsageComponent, createUsageComponent, type UsageComponent, type UsageComponentOptions } from '../../src/sources/usage/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { readJsonFixture } from '../support/fixtures.js';
import { ManualClock } from '../support/manual-clock.js';
import { claudeConfigCopy, INJECTED_NOW, seriesValue, shiftToNow, TempDirs, testContext, writeClaudeMonitorStandIn, type StandInOptions } from './support/usage.js';

const recordedActive = parseCcusageBlocks(readJsonFixture('ccusage', 'blocks.json')).find((b) => b.isActive)!;

describe('usage component in a running bridge', () => {
  const dirs = new TempDirs();
  const now = INJECTED_NOW;
  const shift = shiftToNow(recordedActive.lastActivity!, now);
  let configDir: string;
  let api: RunningBridge | null = null;

  beforeAll(() => {
    configDir = claudeConfigCopy(dirs.make(), 'claude-projects/-home-user-demo', '-home-user-demo', shift);
  });
  afterEach(async () => {
    await api?.stop();
    api = null;
  });
  afterAll(() => dirs.cleanup());

  async function start(usage: Partial<BridgeConfig['usage']>, options: UsageComponentOptions = {}, at = now) {
    const clock = new ManualClock(at);
    const config = testConfig({ usage: { claude_config_dir: configDir, ...usage } });
    const components = [createUsageComponent({ env: { PATH: '' }, timeZone: 'UTC', stateDir: dirs.make('state-'), ...options })];
    api = await startBridge({ config, clock, components });
    const component = api.bridge.components.find((c) => c.name === 'usage') as UsageComponent;
    return { api, clock, component };
  }

  function standInDir(options: StandInOptions) {
    const dir = dirs.make('claude-monitor-');
    return { dir, ...writeClaudeMonitorStandIn(dir, options) };
  }

  it("auto: the transcript reader serves the block and today's cost, the same figures as ccusage's", async () => {
    const { api, component } = await start({ source: 'auto' });
    await component.poller!.pollOnce();
    const runner = new CcusageRunner({ usage: testConfig().usage, configDir, now: () => now });
    const today = new Date(now).toISOString().slice(0, 10);
    const ccusageToday = parseCcusageDaily(await runner.json(['daily', '--timezone', 'UTC'])).find((d) => d.date === today);
    const ccusageActive = parseCcusageBlocks(await runner.json(['blocks'])).find((b) => !b.isGap && b.start === recordedActive.start + shift)!;

    const { body } = await api.get('/metrics');
    expect(body.usage_data).toMatchObject({
      source: 'transcripts',
      block: {
        start: new Date(recordedActive.start + shift).toISOString(),
        tokens: { input: 2474, output: 25980, cache_creation: 50664, cache_read: 146376 },
        tokens_input_output: 28454,
        tokens_all_kinds: ccusageActive.totalTokens,
        tokens_by_model_family: { opus: 10837, sonnet: 15037, haiku: 2580 },
        cost_usd: expect.closeTo(ccusageActive.costUsd, 9),
        resets_at: new Date(ccusageActive.limitResetsAt!).toISOString(),
        token_limit: 88000,
        token_limit_source: 'plan',
        tokens_used_ratio: expect.closeTo(28454 / 88000, 12),
      },
      rate_limits: { five_hour: { used_ratio: expect.closeTo(28454 / 88000, 12), source: 'estimate' } },
      daily_cost_usd: expect.closeTo(ccusageToday!.costUsd, 10),
    });

    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_usage_block_tokens{kind="cache_read"}')).toBe(146376);
    expect(seriesValue(metrics, 'claude_bridge_usage_block_model_tokens{family="opus"}')).toBe(10837);
    expect(seriesValue(metrics, 'claude_bridge_usage_block_model_tokens{family="other"}')).toBeUndefined(); // the <synthetic> notice is no model
    expect(seriesValue(metrics, 'claude_bridge_usage_cost_usd{scope="block"}')).toBeCloseTo(1.7232276, 9);
    expect(seriesValue(metrics, 'claude_bridge_usage_token_limit{basis="plan"}')).toBe(88000);
    expect(seriesValue(metrics, 'claude_bridge_usage_burn_rate_tokens_per_second')).toBeCloseTo(recordedActive.burnRate!.inputOutputTokensPerMinute! / 60, 9);
    expect(seriesValue(metrics, 'claude_bridge_rate_limit_used_ratio{window="five_hour",source="estimate"}')).toBeCloseTo(28454 / 88000, 12);
    expect(seriesValue(metrics, 'claude_bridge_usage_session_duration_seconds')).toBeCloseTo((now - recordedActive.start - shift) / 1000, 6);
    expect(seriesValue(metrics, 'claude_bridge_source_up{source="transcripts"}')).toBe(1);
    expect(metrics).not.toContain('source="claude-monitor"');
    expect(metrics).not.toContain('source="ccusage"');

    const health = (await api.get('/health')).body;
    expect(health.status).toBe('healthy');
    expect(health.sources.transcripts).toMatchObject({ enabled: true, up: true, details: { selected: true, role: 'active', used_for: 'blocks and daily cost', files: 3, synthetic_entries: 1 } });
    expect(health.sources.ccusage).toMatchObject({ enabled: false, details: { role: 'standby' } });
    expect(health.sources['claude-monitor']).toMatchObject({ enabled: false, details: { role: 'standby' } });
    expect(health.sources.usage).toMatchObject({ up: true, details: { mode: 'auto', figures: { block: 'transcripts', daily_cost: 'transcripts', rate_limits: { five_hour: 'transcripts' } } } });
  });

  it('source ccusage: the ccusage subprocesses serve both figures, as before', async () => {
    const { api, component } = await start({ source: 'ccusage' });
    await component.poller!.pollOnce();
    const { body } = await api.get('/metrics');
    expect(body.usage_data).toMatchObject({ source: 'ccusage', block: { tokens_input_output: 28454, cost_usd: expect.closeTo(1.7232276, 9) } });
    const health = (await api.get('/health')).body;
    expect(health.sources.ccusage).toMatchObject({ up: true, details: { selected: true, used_for: 'blocks and daily cost' } });
    expect(health.sources.transcripts).toMatchObject({ enabled: false, details: { role: 'disabled' } });
    expect(health.sources.usage.details.figures).toMatchObject({ block: 'ccusage', daily_cost: 'ccusage' });
  });

  it('source claude-monitor with a v4 on PATH: claude-monitor serves the block, the transcript reader today\'s cost', async () => {
    const standIn = standInDir({ shiftMs: shift });
    const { api, component } = await start({ source: 'claude-monitor' }, { env: { PATH: standIn.dir } });
    await component.poller!.pollOnce();
    const { body } = await api.get('/metrics');
    expect(body.usage_data.source).toBe('claude-monitor');
    expect(body.usage_data.rate_limits.five_hour).toMatchObject({ used_ratio: 0.62, source: 'official' });
    const runner = new CcusageRunner({ usage: testConfig().usage, configDir, now: () => now });
    const today = parseCcusageDaily(await runner.json(['daily', '--timezone', 'UTC'])).find((d) => d.date === new Date(now).toISOString().slice(0, 10));
    expect(body.usage_data.daily_cost_usd).toBeCloseTo(today!.costUsd, 9);
    const health = (await api.get('/health')).body;
    expect(health.sources['claude-monitor']).toMatchObject({ enabled: true, up: true, details: { version: '4.0.0', selected: true } });
    expect(health.sources.transcripts).toMatchObject({ up: true, details: { used_for: 'daily cost', selected: false } });
    expect(health.sources.usage.details.figures).toMatchObject({ block: 'claude-monitor', daily_cost: 'transcripts', rate_limits: { five_hour: 'statusline' } });
    expect(standIn.calls()).toContain('--once --output json --plan max5');
  });

  it('claude-monitor 3 (source claude-monitor): /health says unsupported and how to upgrade, and nothing is scraped', async () => {
    const standIn = standInDir({ version: 'claude-monitor 3.1.0' });
    const { api, component } = await start({ source: 'claude-monitor' }, { env: { PATH: standIn.dir } });
    await component.poller!.pollOnce();
    const health = (await api.get('/health')).body;
    expect(health.sources['claude-monitor']).toMatchObject({
      enabled: true,
      up: false,
      last_error: expect.stringContaining('claude-monitor 3.1.0 is not supported'),
      details: { version: '3.1.0', supported: false, hint: expect.stringContaining('uv tool upgrade claude-monitor') },
    });
    expect(health.problems.join('\n')).toContain('uv tool upgrade claude-monitor');
    expect(standIn.calls()).toEqual(['--version']); // nothing scraped
    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_source_errors_total{source="claude-monitor"}')).toBe(1);
  });

  it('a hung source times out into /health while the API keeps answering', async () => {
    const standIn = standInDir({ hangSeconds: 30 });
    const { api, component } = await start({ source: 'claude-monitor', timeout_s: 1, claude_monitor_path: standIn.path });
    const poll = component.poller!.pollOnce();
    let pollSettled = false;
    void poll.finally(() => (pollSettled = true));
    expect((await api.get('/health')).status).toBe(200);
    expect((await api.post('/statusline', { rate_limits: { five_hour: { used_percentage: 10 } } })).status).toBe(200);
    expect((await api.get('/metrics')).status).toBe(200);
    expect(pollSettled).toBe(false); // all three answered while the poll was still hanging
    expect(component.poller!.pollOnce()).toBe(poll); // joined, never a second run
    await poll;
    const health = (await api.get('/health')).body;
    expect(health.status).toBe('degraded');
    expect(health.sources['claude-monitor']).toMatchObject({ up: false, last_error: expect.stringContaining('did not finish within 1000 ms') });
    expect(health.sources.transcripts.up).toBe(true); // the daily cost still came in
    expect(standIn.calls().filter((c) => c.startsWith('--once'))).toHaveLength(1);
  });

  it('an erroring source (exit 30) is counted and shown; the last good figures stay', async () => {
    const dir = dirs.make('claude-monitor-');
    const standIn = writeClaudeMonitorStandIn(dir, {});
    const { api, component } = await start({ source: 'claude-monitor', claude_monitor_path: standIn.path }, {}, Date.parse('2026-11-25T16:20:00Z'));
    await component.poller!.pollOnce();
    writeClaudeMonitorStandIn(dir, { exitCode: 30, stdout: '', stderr: 'cannot read data' });
    await component.poller!.pollOnce();
    const health = (await api.get('/health')).body;
    expect(health.status).toBe('degraded');
    expect(health.sources['claude-monitor']).toMatchObject({ up: false, last_error: 'claude-monitor reported an error: cannot read data' });
    expect(health.problems).toContain('claude-monitor is down: claude-monitor reported an error: cannot read data');
    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_source_errors_total{source="claude-monitor"}')).toBe(1);
    expect(seriesValue(metrics, 'claude_bridge_source_up{source="claude-monitor"}')).toBe(0);
    expect((await api.get('/metrics')).body.usage_data.block.cost_usd).toBe(7.4213);
  });

  it('polls every poll_interval_s on the injected clock', async () => {
    const standIn = standInDir({});
    const { clock, component } = await start({ source: 'claude-monitor', poll_interval_s: 30, claude_monitor_path: standIn.path });
    await component.poller!.pollOnce(); // the poll start() began
    const polls = () => standIn.calls().filter((c) => c.startsWith('--once')).length;
    expect(polls()).toBe(1);
    clock.advance(29_000);
    expect(polls()).toBe(1);
    clock.advance(1_000);
    await component.poller!.pollOnce(); // joins the poll the timer began
    expect(polls()).toBe(2);
  });

  it('source none polls nothing; the status line still works', async () => {
    const { api, component } = await start({ source: 'none' });
    expect(component.poller).toBeNull();
    const health = (await api.get('/health')).body;
    expect(health.status).toBe('healthy');
    expect(health.sources.ccusage).toMatchObject({ enabled: false, details: { role: 'disabled' } });
    const { body } = await api.post('/statusline', { rate_limits: { five_hour: { used_percentage: 40 } } });
    expect(body.five_hour).toMatchObject({ used_ratio: 0.4, source: 'official' });
  });
});

describe('usage metrics contract (docs/METRICS.md)', () => {
  it('registers every metric of the Usage section with its labels, on the registry passed in', async () => {
    const { readRepoFile } = await import('../support/binaries.js');
    const section = readRepoFile('docs', 'METRICS.md').split('## Usage')[1]!.split('\n## ')[0]!;
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('| claude_bridge_'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.length).toBeGreaterThanOrEqual(18);
    const context = testContext(testConfig({ usage: { source: 'none' } }), new ManualClock());
    buildUsageComponent(context);
    for (const [, name, type, labels] of rows) {
      const metric = context.registry.getSingleMetric(name!) as unknown as { type?: string; labelNames: string[] } | undefined;
      expect({ name, registered: metric !== undefined }).toEqual({ name, registered: true });
      const expected = (labels ?? '').replace(/\([^)]*\)/g, '').split(',').map((l) => l.trim()).filter(Boolean);
      expect({ name, labels: [...metric!.labelNames].sort() }).toEqual({ name, labels: expected.sort() });
      const exposition = await context.registry.getSingleMetricAsString(name!);
      expect(exposition).toContain(`# TYPE ${name} ${type}`);
    }
    for (const name of Object.values(ALERT_INPUT_METRICS)) expect(context.registry.getSingleMetric(name)).toBeDefined();
  });

  it('removes block series once the block has ended', async () => {
    const clock = new ManualClock(Date.parse('2026-11-25T16:00:00Z'));
    const context = testContext(testConfig(), clock);
    const component = buildUsageComponent(context, { env: { PATH: '' }, timeZone: 'UTC' });
    component.state.snapshot = {
      source: 'ccusage',
      takenAt: clock.now(),
      activeBlock: {
        start: Date.parse('2026-11-25T13:00:00Z'),
        end: Date.parse('2026-11-25T18:00:00Z'),
        limitResetsAt: null,
        tokens: { input: 100, output: 200, cache_creation: 0, cache_read: 0 },
        byFamily: { sonnet: { tokens: 300, costUsd: 0.5 } },
        costUsd: 0.5,
        burnRate: { tokensPerMinute: 10, usdPerHour: 1 },
      },
      completedBlockTokens: [],
      rateLimits: {},
      tokenLimit: null,
      details: {},
    };
    const text = () => context.registry.metrics();
    expect(seriesValue(await text(), 'claude_bridge_usage_block_tokens{kind="output"}')).toBe(200);
    expect(seriesValue(await text(), 'claude_bridge_rate_limit_used_ratio{window="five_hour",source="estimate"}')).toBeCloseTo(300 / 88000, 12);
    clock.advance(2 * 3600 * 1000);
    const after = await text();
    expect(after).not.toMatch(/^claude_bridge_usage_block_tokens\{/m);
    expect(after).not.toMatch(/^claude_bridge_rate_limit_used_ratio\{/m);
    expect(after).not.toMatch(/^claude_bridge_usage_session_duration_seconds /m);
  });
});
