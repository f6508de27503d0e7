import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(REPO, 'dist', 'cli', 'main.js');

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
