import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createUsageComponent, type UsageComponent } from '../../src/sources/usage/index.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { assistantLine } from './support/transcripts.js';
import { INJECTED_NOW, seriesValue, TempDirs } from './support/usage.js';

const HOUR = 3_600_000;

describe('usage.source: transcripts in a running bridge', () => {
  const dirs = new TempDirs();
  let api: RunningBridge | null = null;
  afterEach(async () => {
    await api?.stop();
    api = null;
  });
  afterAll(() => dirs.cleanup());

  async function start(root: string, stateDir: string, usage: Record<string, unknown> = {}) {
    const clock = new ManualClock(INJECTED_NOW);
    const config = testConfig({ usage: { source: 'transcripts', claude_config_dir: root, ...usage } });
    api = await startBridge({ config, clock, components: [createUsageComponent({ env: { PATH: '' }, timeZone: 'UTC', stateDir })] });
    const component = api.bridge.components.find((c) => c.name === 'usage') as UsageComponent;
    await component.poller!.pollOnce();
    return { api, clock, component };
  }

  function transcript(root: string, name: string, lines: object[]): string {
    const file = path.join(root, 'projects', 'p', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    return file;
  }

  it('an appended message reaches /prometheus through the file watch, without a poll interval going by', async () => {
    const root = dirs.make();
    const at = INJECTED_NOW - HOUR;
    const file = transcript(root, 's.jsonl', [assistantLine({ at, id: 'a', req: 'a', input: 100, output: 200 })]);
    const { api, clock } = await start(root, dirs.make('state-'), { poll_interval_s: 3600 });
    const outputTokens = async () => seriesValue((await api.get('/prometheus')).text, 'claude_bridge_usage_block_tokens{kind="output"}');
    expect(await outputTokens()).toBe(200);

    appendFileSync(file, `${JSON.stringify(assistantLine({ at: at + 60_000, id: 'b', req: 'b', input: 5, output: 1000 }))}\n`);
    const started = Date.now();
    let seen = await outputTokens();
    while (seen !== 1200) {
      if (Date.now() - started > 15_000) throw new Error(`the append never reached /prometheus (still ${seen}); health ${JSON.stringify((await api.get('/health')).body.sources.transcripts)}`);
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(50); // the reader gathers a burst of notifications for 200 ms on the clock
      seen = await outputTokens();
    }
    const metrics = (await api.get('/prometheus')).text;
    expect(seriesValue(metrics, 'claude_bridge_usage_block_tokens{kind="input"}')).toBe(105);
    expect(seriesValue(metrics, 'claude_bridge_usage_cost_usd{scope="day"}')).toBeCloseTo((105 * 3 + 1200 * 15) / 1e6, 12);
  });

  it('/health lists unpriced models and skipped lines; usage.pricing prices a model the table lacks', async () => {
    const root = dirs.make();
    const at = INJECTED_NOW - HOUR;
    transcript(root, 's.jsonl', [
      assistantLine({ at, id: 'a', req: 'a', model: 'claude-sonnet-4-7-preview', input: 1_000_000 }),
      assistantLine({ at, id: 'b', req: null }),
    ]);
    const { api } = await start(root, dirs.make('state-'));
    const health = (await api.get('/health')).body;
    expect(health.sources.transcripts).toMatchObject({ up: true, details: { unpriced_entries: 1, unpriced_models: { 'claude-sonnet-4-7-preview': 1 }, skipped_null_field: 1 } });
    expect((await api.get('/metrics')).body.usage_data.block.cost_usd).toBe(0);
    await api.stop();

    const priced = await start(root, dirs.make('state-'), { pricing: { 'claude-sonnet-4-7-preview': { input: 2, output: 8 } } });
    expect((await priced.api.get('/metrics')).body.usage_data.block.cost_usd).toBeCloseTo((1_000_000 * 2 + 20 * 8) / 1e6, 12);
    expect((await priced.api.get('/health')).body.sources.transcripts.details).toMatchObject({ unpriced_entries: 0 });
  });

  it('keeps its index in state.dir across a bridge restart', async () => {
    const root = dirs.make();
    const stateDir = dirs.make('state-');
    transcript(root, 's.jsonl', [assistantLine({ at: INJECTED_NOW - HOUR, id: 'a', req: 'a' })]);
    const first = await start(root, stateDir);
    await first.api.stop();
    expect(existsSync(path.join(stateDir, 'usage-transcripts.index'))).toBe(true);
    const second = await start(root, stateDir);
    expect((await second.api.get('/health')).body.sources.transcripts.details).toMatchObject({ index: { loaded: true }, entries_counted: 1 });
  });
});
