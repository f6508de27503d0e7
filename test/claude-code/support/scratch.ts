import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_ENTRY } from './bridge-process.js';

/**
 * A scratch world for one suite: a HOME whose ~/.claude Claude Code and the bridge's installer
 * use, a project folder Claude Code runs in, the bridge's config and state, and a bin folder with
 * the `claude-bridge` executable (what `npm install -g` would put on PATH) for command hooks.
 */
export interface Scratch {
  root: string;
  home: string;
  /** $HOME/.claude: settings.json, and projects/ with the transcripts. */
  claudeDir: string;
  project: string;
  binDir: string;
  stateDir: string;
  configFile: string;
  logFile: string;
  cleanup(): void;
}

/** `port`: the bridge's HTTP port; `otlpPort`: its OTLP receiver, where Claude Code's telemetry goes. */
export function makeScratch(port: number, otlpPort: number): Scratch {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'claude-code-e2e-')));
  const home = path.join(root, 'home');
  const claudeDir = path.join(home, '.claude');
  const project = path.join(root, 'project');
  const binDir = path.join(root, 'bin');
  const stateDir = path.join(root, 'state');
  for (const dir of [claudeDir, project, binDir, stateDir]) mkdirSync(dir, { recursive: true });

  // A setting of the user's own, which install-hooks must keep. It also keeps Claude Code from
  // deleting this suite's transcripts: it removes those older than cleanupPeriodDays by file time,
  // and under CI's shifted clock (libfaketime fakes the clock, not file times) every transcript
  // written a moment ago looks 400 days old.
  writeFileSync(path.join(claudeDir, 'settings.json'), `${JSON.stringify({ cleanupPeriodDays: 36500 }, null, 2)}\n`);

  const wrapper = path.join(binDir, 'claude-bridge');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${CLI_ENTRY}' "$@"\n`);
  chmodSync(wrapper, 0o755);

  const configFile = path.join(root, 'bridge.yaml');
  writeFileSync(
    configFile,
    `# The bridge under test. Alerts come from the tests only (POST /alerts/:type, and StopFailure
# from Claude Code): no embedded evaluator, no hooks observability server.
server: { host: 127.0.0.1, port: ${port} }
logging: { level: debug }
state: { dir: ${JSON.stringify(stateDir)} }
hooks_server: { enabled: false }
otlp: { host: 127.0.0.1, port: ${otlpPort} }   # a free port of its own: test files run in parallel
usage: { source: ccusage, claude_config_dir: ${JSON.stringify(claudeDir)}, poll_interval_s: 1 }
alerting: { mode: alertmanager }
recovery:
  backoff: { base_s: 2, cap_s: 2 }   # one delay at every attempt: "the current delay" is unambiguous
`,
  );
  return {
    root,
    home,
    claudeDir,
    project,
    binDir,
    stateDir,
    configFile,
    logFile: path.join(root, 'bridge.log'),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Runs the built `claude-bridge` CLI as a user would, in the scratch HOME. */
export function bridgeCli(scratch: Scratch, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    cwd: scratch.project,
    env: { PATH: process.env.PATH, HOME: scratch.home },
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
