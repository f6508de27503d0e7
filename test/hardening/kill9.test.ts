import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { STATE_FILE } from '../../src/recovery/store.js';
import { REPO_ROOT } from '../support/binaries.js';
import { seededRandom } from '../support/random.js';

const ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Rounds of change → kill -9 → restart: 30 in CI, `KILL_ROUNDS=100` (the figure) by hand. */
function killRounds(): number {
  const text = process.env.KILL_ROUNDS;
  if (text === undefined || text === '') return 30;
  const rounds = Number(text);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`KILL_ROUNDS must be a positive whole number, got ${JSON.stringify(text)}`);
  return rounds;
}

/** The kill moments are random; `KILL_SEED` from a failure's message replays them. */
function seed(): number {
  const text = process.env.KILL_SEED;
  return text ? Number(text) : Math.floor(Math.random() * 2 ** 31);
}

/** A `claude-bridge serve` process; `output` collects its log. */
class BridgeProcess {
  output = '';
  readonly exited: Promise<void>;
  private gone = false;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => (this.gone = true));
  }

  static async start(cwd: string, stateDir: string): Promise<{ process: BridgeProcess; url: string }> {
    const child = spawn(process.execPath, [ENTRY, 'serve', '--port', '0'], {
      cwd,
      env: { ...process.env, CLAUDE_BRIDGE_STATE_DIR: stateDir, CLAUDE_BRIDGE_OTLP_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const bridge = new BridgeProcess(child);
    for (;;) {
      const port = /"msg":"bridge listening".*?"port":(\d+)/.exec(bridge.output)?.[1];
      if (port) return { process: bridge, url: `http://127.0.0.1:${port}` };
      if (bridge.gone) throw new Error(`the bridge exited at start:\n${bridge.output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

type AlertType = 'time_limit' | 'cost_threshold' | 'test_alert';
type Change = { kind: 'fire'; type: AlertType; summary: string; resetsAt?: number } | { kind: 'resolve'; type: AlertType } | { kind: 'resume' };

/** What the recovery state should be: the alerts (with their summaries) and the pause. */
interface Model {
  alerts: Record<string, string>;
  pausedUntil: number | null;
}

/** The documented effect of each change (README "Recovery"), for the change that was in flight at the kill. */
function apply(model: Model, change: Change): Model {
  if (change.kind === 'resume') return { alerts: {}, pausedUntil: null };
  const alerts = { ...model.alerts };
  if (change.kind === 'resolve') {
    delete alerts[change.type];
    return { alerts, pausedUntil: change.type === 'time_limit' ? null : model.pausedUntil };
  }
  alerts[change.type] = change.summary;
  const pausedUntil = change.type === 'time_limit' && model.pausedUntil === null ? change.resetsAt! : model.pausedUntil;
  return { alerts, pausedUntil };
}

function fingerprintOfModel(model: Model): string {
  const state = model.pausedUntil !== null ? 'paused' : model.alerts.cost_threshold !== undefined ? 'degraded' : 'normal';
  const alerts = Object.entries(model.alerts).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify({ state, alerts, paused_until: model.pausedUntil === null ? null : new Date(model.pausedUntil).toISOString() });
}

/** The same, read from a /recovery/status answer (or the `recovery` of a change's answer). */
function fingerprintOfStatus(status: any): string {
  const alerts = (status.active_alerts as { alert: string; origins: { summary?: string }[] }[])
    .map((a) => [a.alert, a.origins[0]?.summary ?? ''] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify({ state: status.state, alerts, paused_until: status.paused_until });
}

function nextChange(rng: () => number, label: string): Change {
  const types: AlertType[] = ['time_limit', 'cost_threshold', 'test_alert'];
  const type = types[Math.floor(rng() * types.length)]!;
  const roll = rng();
  if (roll < 0.2) return { kind: 'resume' };
  if (roll < 0.35) return { kind: 'resolve', type };
  // An hour ahead and to the millisecond of this change: every pause is told apart.
  return { kind: 'fire', type, summary: label, ...(type === 'time_limit' ? { resetsAt: Date.now() + 3_600_000 + Math.floor(rng() * 1000) } : {}) };
}

async function send(url: string, change: Change): Promise<{ status: number; body: any }> {
  const target =
    change.kind === 'resume'
      ? '/recovery/resume'
      : change.kind === 'resolve'
        ? `/alerts/${change.type}?resolve=1`
        : `/alerts/${change.type}`;
  const body =
    change.kind === 'fire' ? JSON.stringify({ summary: change.summary, ...(change.resetsAt ? { resets_at: new Date(change.resetsAt).toISOString() } : {}) }) : '{}';
  const response = await fetch(url + target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, body: await response.json() };
}

describe('kill -9 while the state changes: every restart loads the last acknowledged state (issue 10)', () => {
  let dirs: string[] = [];
  let running: BridgeProcess | null = null;
  beforeAll(() => {
    // `npm test` has built dist already; run directly, this builds it when src is newer.
    const build = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'ensure-built.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  }, 300_000);
  afterAll(async () => {
    await running?.kill9();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  const rounds = killRounds();
  it(`${rounds} rounds: changes acknowledged, SIGKILL at a random moment, restart`, async () => {
    const seedValue = seed();
    const rng = seededRandom(seedValue);
    const stateDir = mkdtempSync(path.join(tmpdir(), 'bridge-kill9-state-'));
    const cwd = mkdtempSync(path.join(tmpdir(), 'bridge-kill9-cwd-'));
    dirs.push(stateDir, cwd);
    // Only the recovery state: no hooks server to reach, no usage subprocesses.
    writeFileSync(path.join(cwd, 'config.yaml'), 'hooks_server:\n  enabled: false\nusage:\n  source: none\n');
    const context = (round: number, detail: string) => `round ${round + 1} of ${rounds} (KILL_SEED=${seedValue}): ${detail}`;

    let model: Model = { alerts: {}, pausedUntil: null };
    let started = await BridgeProcess.start(cwd, stateDir);
    running = started.process;
    for (let round = 0; round < rounds; round += 1) {
      // Changes, each acknowledged before the next; then one more that the kill may interrupt.
      const acknowledged = Math.floor(rng() * 4);
      for (let i = 0; i < acknowledged; i += 1) {
        const change = nextChange(rng, `round ${round} change ${i}`);
        const answer = await send(started.url, change);
        if (answer.status !== 200) throw new Error(context(round, `${JSON.stringify(change)} answered ${answer.status} ${JSON.stringify(answer.body)}`));
        model = apply(model, change);
        expect(fingerprintOfStatus(answer.body.recovery)).toBe(fingerprintOfModel(model));
      }
      const inFlight = nextChange(rng, `round ${round} change in flight`);
      const killAfterMs = rng() < 0.25 ? 0 : rng() * 15;
      const sent = send(started.url, inFlight).then(
        (answer) => (answer.status === 200 ? 'acknowledged' : 'refused'),
        () => 'cut off',
      );
      await new Promise((resolve) => setTimeout(resolve, killAfterMs)); // a random moment: before, during or after the write
      await running.kill9();
      const outcome = await sent;
      const temps = readdirSync(stateDir).filter((name) => name.endsWith('.tmp'));
      expect(temps.length).toBeLessThanOrEqual(1); // at most the write the kill cut short

      started = await BridgeProcess.start(cwd, stateDir);
      running = started.process;
      const status = (await (await fetch(`${started.url}/recovery/status`)).json()) as any;
      const loaded = fingerprintOfStatus(status);
      const before = fingerprintOfModel(model);
      const after = apply(model, inFlight);
      const allowed = outcome === 'acknowledged' ? [fingerprintOfModel(after)] : [before, fingerprintOfModel(after)];
      if (!allowed.includes(loaded)) {
        throw new Error(context(round, `after the kill (in flight: ${JSON.stringify(inFlight)}, ${outcome}) the bridge loaded\n${loaded}\nexpected one of\n${allowed.join('\n')}\nlog:\n${running.output}`));
      }
      if (/unreadable|kept aside/.test(running.output)) throw new Error(context(round, `the state file did not load:\n${running.output}`));
      const files = readdirSync(stateDir);
      if (files.some((name) => name !== STATE_FILE)) throw new Error(context(round, `stray files after the restart: ${files.join(', ')}`));
      const saved = JSON.parse(readFileSync(path.join(stateDir, STATE_FILE), 'utf8'));
      expect(saved.state.name).toBe(status.state);
      model = loaded === before ? model : after;
    }
  }, 60_000 + rounds * 15_000);
});
