import { spawn, type ChildProcess } from 'node:child_process';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { sessionsComponent } from '../../src/sources/sessions/index.js';
import { repoPath } from '../support/binaries.js';
import { startBridge, type RunningBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const CLI = repoPath('dist', 'cli', 'main.js');
/** A safety net for a loaded machine: each redraw comes about a second after the last. */
const REDRAW_WAIT_MS = 20_000;

/** `claude-bridge status --watch` as a user runs it (its own process, stdout not a terminal). */
class Watcher {
  output = '';
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, 'status', '--watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Waits until `pattern` has been drawn `times` times in all. */
  async drawn(pattern: RegExp, times = 1): Promise<void> {
    const deadline = Date.now() + REDRAW_WAIT_MS;
    const count = () => (this.output.match(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`)) ?? []).length;
    while (count() < times) {
      if (Date.now() > deadline) throw new Error(`${pattern} not drawn ${times} times; output so far:\n${this.output.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  interrupt(): Promise<number | null> {
    this.child.kill('SIGINT');
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

describe('claude-bridge status --watch', () => {
  let api: RunningBridge;
  let watcher: Watcher | null = null;
  /** Between the watch and the bridge, so that the bridge can go away and come back on the same address. */
  let proxy: TcpProxy;
  let url: string;
  beforeEach(async () => {
    api = await startBridge({ config: testConfig({ usage: { source: 'none' } }), clock: new ManualClock(), components: [hooksComponent, sessionsComponent] });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(api.url).port) });
    url = `http://127.0.0.1:${proxy.port}`;
  });
  afterEach(async () => {
    watcher?.kill();
    watcher = null;
    await proxy.close();
    await api.stop();
  });

  it('redraws as the state changes, keeps going while the bridge is away, and on Ctrl-C exits with the code of the last state shown', async () => {
    watcher = new Watcher(['--url', url]);
    await watcher.drawn(/^NORMAL$/m, 2); // drawn again, not once

    const resetsAt = Date.parse('2026-11-25T13:30:00Z');
    expect((await api.post('/alerts/time_limit', { resets_at: resetsAt / 1000 })).status).toBe(200);
    await watcher.drawn(/^PAUSED {2}resumes in 1h30m/m);

    await proxy.cut();
    await watcher.drawn(/^bridge down: http:\/\/127\.0\.0\.1:\d+ /m, 2);

    // Back on the same address, resumed meanwhile: the watch picks it up again.
    expect((await api.post('/recovery/resume')).status).toBe(200);
    await proxy.restore();
    await watcher.drawn(/^NORMAL$/m, (watcher.output.match(/^NORMAL$/gm) ?? []).length + 1);
    expect((await api.post('/alerts/rate_limit')).status).toBe(200);
    await watcher.drawn(/^BACKOFF/m);
    expect(await watcher.interrupt()).toBe(2);
  }, 60_000);

  it('--json: one JSON document per redraw', async () => {
    watcher = new Watcher(['--url', url, '--json']);
    await watcher.drawn(/^\{$/m, 2);
    expect(await watcher.interrupt()).toBe(0);
    const documents = watcher.output.split(/\n(?=\{\n)/).filter((d) => d.trim() !== '');
    expect(documents.length).toBeGreaterThanOrEqual(2);
    for (const document of documents) expect(JSON.parse(document)).toMatchObject({ recovery: { state: 'normal' } });
  }, 60_000);
});
