#!/usr/bin/env node
// Installs the Claude Code CLI that the end-to-end suite (test/claude-code/) drives: the version
// pinned in package.json ("config": {"claude_code_version"}), into a cache folder outside
// node_modules, so that it is not a dependency users download with the bridge and a second run
// reuses it. Prints the path of the `claude` executable.
//
//   node scripts/install-claude-code.mjs           install unless the pinned version is there
//   node scripts/install-claude-code.mjs --check   only report: exit 0 when installed, 1 when not
//
// The folder: $XDG_CACHE_HOME (default ~/.cache)/claude-monitoring-bridge/claude-code-<version>.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).config.claude_code_version;
const cache = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'claude-monitoring-bridge');
const prefix = path.join(cache, `claude-code-${version}`);
const bin = path.join(prefix, 'node_modules', '.bin', 'claude');

function installedVersion() {
  if (!existsSync(bin)) return null;
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 ? result.stdout.trim().split(/\s/)[0] : null;
}

if (installedVersion() === version) {
  console.log(bin);
  process.exit(0);
}
if (process.argv.includes('--check')) {
  console.error(`Claude Code ${version} is not installed in ${prefix}`);
  process.exit(1);
}

// Installed into a temporary folder and renamed into place, so an interrupted install never
// leaves a half-written copy that looks installed.
mkdirSync(cache, { recursive: true });
const staging = `${prefix}.partial-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
console.error(`installing @anthropic-ai/claude-code@${version} into ${prefix} …`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const install = spawnSync(
  npm,
  ['install', '--prefix', staging, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `@anthropic-ai/claude-code@${version}`],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
if (install.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`npm install of @anthropic-ai/claude-code@${version} failed (exit ${install.status})`);
  process.exit(1);
}
rmSync(prefix, { recursive: true, force: true });
renameSync(staging, prefix);
const got = installedVersion();
if (got !== version) {
  console.error(`installed, but ${bin} --version reports ${JSON.stringify(got)}, not ${version}`);
  process.exit(1);
}
console.log(bin);
