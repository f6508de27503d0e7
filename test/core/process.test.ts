import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeHooksServer } from '../hooks/support/fake-hooks-server.js';
import { EventMaker } from '../hooks/support/sync.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(REPO, 'dist', 'cli', 'main.js');
const EXIT_PROBE = path.join(REPO, 'test', 'support', 'exit-probe.mjs');

/** The built CLI as a user runs it: a real process, real signals. */
describe('claude-bridge serve as a process', () => {
  beforeAll(() => {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
  }, 120_000);

  it('starts on embedded defaults, serves, and on SIGTERM flushes state and exits 0', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'bridge-proc-'));
    const cwd = mkdtempSync(path.join(tmpdir(), 'bridge-cwd-')); // no config.yaml here: built-in defaults
    const child = spawn(process.execPath, [ENTRY, 'serve', '--port', '0'], {
      cwd,
      env: { ...process.env, CLAUDE_BRIDGE_STATE_DIR: stateDir, CLAUDE_BRIDGE_HOOKS_URL: 'ws://127.0.0.1:9/stream', CLAUDE_BRIDGE_OTLP_PORT: '0', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let exitedEarly = false;
    child.on('exit', () => (exitedEarly = true));
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await waitFor(() => /"msg":"bridge listening".*?"port":(\d+)/.exec(output)?.[1], 15_000, () => output, () => exitedEarly);
      expect(output).toMatch(/built-in defaults/);
      const fired = await fetch(`http://127.0.0.1:${port}/alerts/time_limit`, { method: 'POST' });
      expect(((await fired.json()) as { recovery: { state: string } }).recovery.state).toBe('paused');
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBeLessThan(503);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"bridge stopped"/);
    const saved = JSON.parse(readFileSync(path.join(stateDir, 'recovery-state.json'), 'utf8'));
    expect(saved.state.name).toBe('paused');
    expect(existsSync(path.join(stateDir, 'recovery-state.json'))).toBe(true);
  }, 30_000);

  it('after a catch-up from the hooks server, SIGTERM leaves no timer, socket or server keeping the process alive', async () => {
    const server = await FakeHooksServer.start();
    const make = new EventMaker();
    const stateDir = mkdtempSync(path.join(tmpdir(), 'bridge-proc-'));
    const cwd = mkdtempSync(path.join(tmpdir(), 'bridge-cwd-'));
    const bridges: ServeProcess[] = [];
    try {
      server.insert(make.make('SessionStart'));
      const first = startServe(cwd, stateDir, server.url);
      bridges.push(first);
      await first.waitForOutput(/"msg":"first contact with the hooks server/);
      expect(await first.terminate()).toEqual({ handles: [], timers: 0 });
      expect(await first.exitCode).toBe(0);

      for (const event of make.many(400)) server.insert(event);
      const second = startServe(cwd, stateDir, server.url);
      bridges.push(second);
      const caughtUp = await second.waitForOutput(/^.*"msg":"caught up with the hooks server".*$/m);
      expect(JSON.parse(caughtUp)).toMatchObject({ counted: 400, verdict: 'in-step', windows: [1200] });
      // Taken when "bridge stopped" is logged: anything left then delays the exit (it took 1.8 s once).
      expect(await second.terminate()).toEqual({ handles: [], timers: 0 });
      expect(await second.exitCode).toBe(0);
      expect(server.recentRequests).toEqual(['?limit=1200']);
    } finally {
      for (const bridge of bridges) bridge.kill();
      await server.close();
    }
  }, 60_000);
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, context: () => string, gone: () => boolean): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (gone()) throw new Error(`the process exited; output:\n${context()}`);
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type ServeProcess = ReturnType<typeof startServe>;

/** `claude-bridge serve` against a hooks server, with the exit probe (test/support/exit-probe.mjs) preloaded. */
function startServe(cwd: string, stateDir: string, hooksUrl: string) {
  const child = spawn(process.execPath, ['--import', EXIT_PROBE, ENTRY, 'serve', '--port', '0'], {
    cwd,
    env: { ...process.env, CLAUDE_BRIDGE_STATE_DIR: stateDir, CLAUDE_BRIDGE_HOOKS_URL: hooksUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': the probe's line may still be in the pipe when the process has exited.
  const exitCode = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const waitForOutput = (pattern: RegExp) => waitFor(() => pattern.exec(output)?.[0], 30_000, () => output, () => exited);
  return {
    exitCode,
    waitForOutput,
    /** SIGTERM, then what the probe found still keeping the process alive once the bridge had stopped. */
    terminate: async (): Promise<unknown> => {
      child.kill('SIGTERM');
      return JSON.parse((await waitForOutput(/^EXIT-PROBE (.*)$/m)).slice('EXIT-PROBE '.length));
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
  };
}
