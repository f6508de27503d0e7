import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../../src/util/clock.js';
import { repoPath, type RequiredTool } from '../../support/binaries.js';

/** The pinned version (package.json "config"), installed by `npm run install-claude-code`. */
export const CLAUDE_CODE_VERSION: string = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')).config.claude_code_version;

/** Where scripts/install-claude-code.mjs puts the `claude` executable (same folder rule). */
export function claudeCodeBinary(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'claude-monitoring-bridge', `claude-code-${CLAUDE_CODE_VERSION}`, 'node_modules', '.bin', 'claude');
}

export function claudeCodeTool(): RequiredTool {
  return { name: `Claude Code ${CLAUDE_CODE_VERSION}`, found: existsSync(claudeCodeBinary()), install: 'npm run install-claude-code' };
}

/** The JSON `claude -p --output-format json` prints (the fields the suite reads). */
export interface ClaudeResult {
  session_id: string;
  is_error: boolean;
  result: string;
  num_turns: number;
  api_error_status: number | null;
  terminal_reason?: string;
  permission_denials: { tool_name: string; tool_use_id: string; tool_input: Record<string, unknown> }[];
}

export interface ClaudeRun {
  result: ClaudeResult;
  exitCode: number | null;
  stderr: string;
  /** When the process was started and when it exited, on the injected clock. */
  startedAt: number;
  endedAt: number;
}

export interface ClaudeOptions {
  clock: Clock;
  home: string;
  cwd: string;
  apiUrl: string;
  prompt: string;
  allowedTools: string[];
  /** Put first on PATH (the folder with the `claude-bridge` executable that command hooks run). */
  binDir?: string;
}

const running = new Set<ChildProcess>();

/** Ends the sessions still running (a test that failed or timed out must not leave one behind to talk to the next). */
export function killRunningClaude(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/**
 * Runs one non-interactive Claude Code session. Its environment is built from scratch, so that
 * nothing of the developer's (ANTHROPIC_*, CLAUDE_CONFIG_DIR, a real ~/.claude) leaks in.
 */
export function runClaude(options: ClaudeOptions): Promise<ClaudeRun> {
  const args = ['-p', options.prompt, '--output-format', 'json', '--allowedTools', options.allowedTools.join(',')];
  const child = spawn(claudeCodeBinary(), args, { cwd: options.cwd, env: claudeEnv(options), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const startedAt = options.clock.now();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => {
      running.delete(child);
      const endedAt = options.clock.now();
      try {
        resolve({ result: JSON.parse(stdout) as ClaudeResult, exitCode, stderr, startedAt, endedAt });
      } catch {
        reject(new Error(`claude printed no JSON result (exit ${exitCode}):\nstdout: ${stdout.slice(0, 2000)}\nstderr: ${stderr.slice(0, 2000)}`));
      }
    });
  });
}

function claudeEnv(options: ClaudeOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: [options.binDir, process.env.PATH].filter(Boolean).join(path.delimiter),
    HOME: options.home,
    ANTHROPIC_BASE_URL: options.apiUrl,
    ANTHROPIC_API_KEY: 'sk-ant-standin-0000',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
  };
  for (const name of ['TZ', 'LANG', 'TMPDIR', 'LD_PRELOAD', 'FAKETIME', 'FAKETIME_NO_CACHE', 'FAKETIME_DONT_RESET']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  // Under CI's shifted-clock run (libfaketime), Claude Code's binary cannot open libfaketime's
  // shared semaphore (FAKETIME_SHARED) and exits; a plain offset needs no shared state, so it
  // runs without it and sees the same shifted clock as the bridge.
  return env;
}
