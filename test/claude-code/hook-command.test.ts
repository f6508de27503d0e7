import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock, type Clock } from '../../src/util/clock.js';
import { readJsonFixture } from '../support/fixtures.js';
import { freePort } from '../support/processes.js';
import { BridgeProcess, CLI_ENTRY } from './support/bridge-process.js';

/**
 * `claude-bridge hook <Event>` as Claude Code runs it: a process, the hook input on stdin, the
 * decision on stdout and the exit code. The bridge is the real one, as a process; "down" is a
 * URL nothing listens on, with the bridge's config (so its live state file) named.
 */
const clock: Clock = systemClock;
const input = (name: string) => readJsonFixture<Record<string, unknown> & { hook_event_name: string }>('claude-code', 'http-hook-inputs', `${name}.json`);
/** Every recorded input but StopFailure, which changes the bridge's state (it has a test of its own). */
const EVENTS = ['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd'].map(input);
const webFetch = { ...input('PreToolUse'), tool_name: 'WebFetch', tool_input: { url: 'http://127.0.0.1:9/', prompt: 'x' } };
const SAVED_STATE_NOTE = /^(.*) \(The bridge http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\); this is the state it last saved\.\)$/s;
const HOLD_MS = 300;

interface HookRun {
  code: number | null;
  stdout: string;
  stderr: string;
  answer: any;
  tookMs: number;
}

/**
 * The test's own environment, so that the command sees the clock the test sees (CI's shifted run
 * sets libfaketime there), without anything that would point it at another bridge or config.
 */
function commandEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: tmpdir(), ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('CLAUDE_BRIDGE_') && !(name in extra)) delete env[name];
  return env;
}

/** Commands still running when a test ends (one that failed while a command held) are ended with it. */
const running = new Set<ChildProcess>();

function hook(args: string[], stdin: string, env: NodeJS.ProcessEnv = {}): Promise<HookRun> {
  const child = spawn(process.execPath, [CLI_ENTRY, 'hook', ...args], { env: commandEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const started = clock.now();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      running.delete(child);
      let answer: unknown;
      try {
        answer = stdout.trim() === '' ? undefined : JSON.parse(stdout);
      } catch {
        answer = undefined;
      }
      resolve({ code, stdout, stderr, answer, tookMs: clock.now() - started });
    });
  });
}

describe('claude-bridge hook <Event>: the command hook', () => {
  let root: string;
  let stateDir: string;
  let configFile: string;
  let bridge: BridgeProcess;
  let deadUrl: string;

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(path.join(tmpdir(), 'hook-command-')));
    stateDir = path.join(root, 'state');
    const port = await freePort();
    configFile = writeConfig('bridge.yaml', stateDir, `server: { host: 127.0.0.1, port: ${port} }\n`);
    bridge = new BridgeProcess(`http://127.0.0.1:${port}`, configFile, path.join(root, 'bridge.log'));
    await bridge.start();
    deadUrl = `http://127.0.0.1:${await freePort()}`;
  }, 60_000);
  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
    running.clear();
  });
  afterAll(async () => {
    await bridge?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    expect((await bridge.post('/recovery/resume')).status).toBe(200);
  });

  function writeConfig(name: string, dir: string, extra = ''): string {
    const file = path.join(root, name);
    writeFileSync(
      file,
      `state: { dir: ${JSON.stringify(dir)} }
hooks_server: { enabled: false }
otlp: { port: 0 }
usage: { source: none }
alerting: { mode: alertmanager }
recovery: { backoff: { base_s: ${HOLD_MS / 1000}, cap_s: ${HOLD_MS / 1000} } }
${extra}`,
    );
    return file;
  }

  const up = (event: Record<string, unknown> & { hook_event_name: string }) => hook([event.hook_event_name, '--url', bridge.url], JSON.stringify(event));
  const down = (event: Record<string, unknown> & { hook_event_name: string }, config = configFile) =>
    hook([event.hook_event_name, '--url', deadUrl, '--config', config], JSON.stringify(event));

  /** The saved-state answer is the bridge's answer; a refusal only adds that it comes from the saved state. */
  function withoutNote(answer: any): any {
    const strip = (reason: string) => {
      const match = SAVED_STATE_NOTE.exec(reason);
      if (!match) throw new Error(`the reason does not say it comes from the saved state: ${reason}`);
      return match[1];
    };
    if (typeof answer?.reason === 'string') return { ...answer, reason: strip(answer.reason) };
    const specific = answer?.hookSpecificOutput;
    if (typeof specific?.permissionDecisionReason === 'string') {
      const stopped = typeof answer.stopReason === 'string' ? { stopReason: strip(answer.stopReason) } : {};
      return { ...answer, ...stopped, hookSpecificOutput: { ...specific, permissionDecisionReason: strip(specific.permissionDecisionReason) } };
    }
    return answer;
  }

  async function expectSameAnswers(events: (Record<string, unknown> & { hook_event_name: string })[]): Promise<void> {
    for (const event of events) {
      const [fromBridge, fromDisk] = [await up(event), await down(event)];
      expect({ event: event.hook_event_name, code: fromBridge.code, stderr: fromBridge.stderr }).toEqual({ event: event.hook_event_name, code: 0, stderr: '' });
      expect({ event: event.hook_event_name, code: fromDisk.code, stderr: fromDisk.stderr }).toEqual({ event: event.hook_event_name, code: 0, stderr: '' });
      expect({ event: event.hook_event_name, answer: withoutNote(fromDisk.answer) }).toEqual({ event: event.hook_event_name, answer: fromBridge.answer });
    }
  }

  it('normal: the bridge answers {} to every event; with the bridge down the saved state says the same', async () => {
    await expectSameAnswers(EVENTS);
    expect((await up(input('PreToolUse'))).stdout).toBe('{}\n');
  }, 60_000);

  it('paused: the bridge’s deny and block, with the resume time; down, the saved pause holds the same way', async () => {
    const resumesAt = new Date(clock.now() + 3_600_000).toISOString();
    expect((await bridge.post('/alerts/time_limit', { resets_at: resumesAt })).body.recovery.state).toBe('paused');
    await expectSameAnswers([...EVENTS, webFetch]);
    const denied = await down(input('PreToolUse'));
    expect(denied.answer.hookSpecificOutput).toMatchObject({ permissionDecision: 'deny', permissionDecisionReason: expect.stringContaining(`until ${resumesAt}`) });
    expect((await down(input('UserPromptSubmit'))).answer).toMatchObject({ decision: 'block', reason: expect.stringContaining(`until ${resumesAt}`) });
  }, 60_000);

  it('degraded: a restricted tool is denied, others get the budget message; down, the same from the saved state', async () => {
    expect((await bridge.post('/alerts/cost_threshold')).body.recovery.state).toBe('degraded');
    await expectSameAnswers([...EVENTS, webFetch]);
    expect((await down(webFetch)).answer.hookSpecificOutput.permissionDecisionReason).toMatch(/^Budget mode: the tool "WebFetch" is restricted/);
    expect((await down(input('PreToolUse'))).answer.hookSpecificOutput.additionalContext).toMatch(/^Budget mode/);
  }, 60_000);

  it('backoff: the prompt and the tool call are held for the delay, by the bridge or, down, by the command itself', async () => {
    expect((await bridge.post('/alerts/rate_limit')).body.recovery.state).toBe('backoff');
    for (const event of [input('PreToolUse'), input('UserPromptSubmit')]) {
      const [fromBridge, fromDisk] = [await up(event), await down(event)];
      expect(fromBridge).toMatchObject({ code: 0, answer: {} });
      expect(fromDisk).toMatchObject({ code: 0, answer: {} });
      expect(fromBridge.tookMs).toBeGreaterThanOrEqual(HOLD_MS);
      expect(fromDisk.tookMs).toBeGreaterThanOrEqual(HOLD_MS);
    }
  }, 60_000);

  describe('what the saved state no longer holds', () => {
    /** The bridge's own state file, changed as time would have changed it, in a folder of its own. */
    function savedCopy(name: string, change: (state: any) => void): string {
      const dir = path.join(root, name);
      mkdirSync(dir, { recursive: true });
      const state = JSON.parse(readFileSync(path.join(stateDir, 'recovery-state.json'), 'utf8'));
      change(state);
      writeFileSync(path.join(dir, 'recovery-state.json'), JSON.stringify(state));
      return writeConfig(`${name}.yaml`, dir);
    }

    it('a pause whose resume time has passed', async () => {
      await bridge.post('/alerts/time_limit', { resets_at: new Date(clock.now() + 3_600_000).toISOString() });
      const config = savedCopy('pause-over', (state) => (state.pausedUntil = clock.now() - 1000));
      expect((await down(input('PreToolUse'), config)).answer).toEqual({});
      expect((await down(input('UserPromptSubmit'), config)).answer).toEqual({});
    }, 60_000);

    it('a one-shot signal (StopFailure rate_limit) past its expiry: no hold', async () => {
      expect((await bridge.post('/hooks/StopFailure', input('StopFailure'))).status).toBe(200);
      expect((await bridge.get('/recovery/status')).body.state).toBe('backoff');
      // were the lapsed signal still applied, the command would hold for the longest hold the config
      // allows (590 s, below Claude Code's hook timeout) and the test time out
      const hour = 3_600_000;
      const longestHold = 590_000;
      const lapsed = savedCopy('signal-lapsed', (state) => {
        state.backoff.delayMs = hour;
        for (const origin of state.alerts[0].origins) origin.expiresAt = clock.now() - 1000;
      });
      writeFileSync(lapsed, `${readFileSync(lapsed, 'utf8')}hooks: { max_hold_ms: { PreToolUse: ${longestHold} } }\n`);
      expect(await down(input('PreToolUse'), lapsed)).toMatchObject({ code: 0, answer: {} });
    }, 60_000);

    it('no saved state at all: fails open', async () => {
      const config = writeConfig('empty.yaml', path.join(root, 'never-written'));
      expect(await down(input('PreToolUse'), config)).toMatchObject({ code: 0, answer: {} });
    }, 60_000);
  });

  it('hooks.command_fallback: fail_open lets everything through while the bridge is down, even a saved pause', async () => {
    await bridge.post('/alerts/time_limit', { resets_at: new Date(clock.now() + 3_600_000).toISOString() });
    const config = writeConfig('fail-open.yaml', stateDir, 'hooks: { command_fallback: fail_open }\n');
    expect((await down(input('UserPromptSubmit'), config)).answer).toEqual({});
    expect((await down(input('PreToolUse'), config)).answer).toEqual({});
    expect((await down(input('PreToolUse'))).answer.hookSpecificOutput.permissionDecision).toBe('deny'); // last_state, the default
  }, 60_000);

  it('an unusable saved state is reported (exit 1: Claude Code proceeds) and left where it is', async () => {
    const dir = path.join(root, 'corrupt');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'recovery-state.json'), '{"version": 1, "trunc');
    const config = writeConfig('corrupt.yaml', dir);
    const run = await down(input('PreToolUse'), config);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(path.join(dir, 'recovery-state.json'));
    expect(readdirSync(dir)).toEqual(['recovery-state.json']); // the bridge's file: not moved aside by the command
    const badConfig = writeConfig('bad-config.yaml', dir, 'hooks: { command_fallback: sometimes }\n');
    expect(await down(input('PreToolUse'), badConfig)).toMatchObject({ code: 1, stderr: expect.stringContaining('hooks.command_fallback') });
  }, 60_000);

  describe('a bridge that misbehaves', () => {
    let server: Server;
    let url: string;
    let reply: (res: ServerResponse) => void;
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => reply(res));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const run = (args: string[] = []) => hook(['PreToolUse', '--url', url, '--config', configFile, ...args], JSON.stringify(input('PreToolUse')));

    it('fails (5xx), or gives no answer in time: the saved state applies', async () => {
      await bridge.post('/alerts/time_limit', { resets_at: new Date(clock.now() + 3_600_000).toISOString() });
      reply = (res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down for maintenance"}');
      const failed = await run();
      expect(failed.code).toBe(0);
      expect(failed.answer.hookSpecificOutput.permissionDecisionReason).toContain('failed with 503; this is the state it last saved');
      reply = () => {}; // never answers
      const silent = await run(['--timeout-ms', '200']);
      expect(silent.code).toBe(0);
      expect(silent.answer.hookSpecificOutput.permissionDecisionReason).toContain('gave no answer within 200 ms');
    }, 60_000);

    it('refuses the input (4xx) or answers something that is not JSON: reported, exit 1, never 2', async () => {
      reply = (res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"the hook input must be a JSON object"}');
      expect(await run()).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('refused the hook input (400: the hook input must be a JSON object)') });
      reply = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hi</html>');
      expect(await run()).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('not a JSON object') });
    }, 60_000);
  });

  it('bad input or usage exits 1 with a message, never 2 (which Claude Code reads as "block")', async () => {
    const cases: [string[], string, RegExp][] = [
      [['PreToolUse', '--url', bridge.url], 'not json', /not JSON/],
      [['PreToolUse', '--url', bridge.url], '', /no hook input on stdin/],
      [['PreToolUse', '--url', bridge.url], '[1,2]', /not a JSON object/],
      [['Stop', '--url', bridge.url], JSON.stringify(input('PreToolUse')), /names the hook event "Stop" but the input's hook_event_name is "PreToolUse"/],
      [['--url', bridge.url], JSON.stringify(input('PreToolUse')), /expects the hook event name first/],
      [['Pre Tool', '--url', bridge.url], JSON.stringify(input('PreToolUse')), /expects the hook event name first/],
      [['PreToolUse', '--bogus'], JSON.stringify(input('PreToolUse')), /Unknown option '--bogus'/],
      [['PreToolUse', '--url', 'ftp://x'], JSON.stringify(input('PreToolUse')), /--url expects an http\(s\) URL/],
    ];
    for (const [args, stdin, message] of cases) {
      const run = await hook(args, stdin);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(run.stderr).toMatch(message);
    }
  }, 60_000);
});
