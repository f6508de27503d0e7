// Installs dependencies and builds the bridge when something is missing or stale, so that
// `npm start` works on a fresh clone.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeUpToDate } from './build-native.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const run = (cmd, stderr = 'inherit') => execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', stderr] });

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return latest;
}

const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error('claude-bridge: installing dependencies…');
  try {
    run('npm ci --no-audit --no-fund', 'pipe');
  } catch {
    // npm ci refuses a lockfile that lacks ccusage's other-platform packages (registries without them)
    run('npm install --no-audit --no-fund');
  }
}
// main.js from tsc, claude-bridge.cjs (the bin) from scripts/bundle-cli.mjs: both from src/
const outputs = [path.join(root, 'dist', 'cli', 'main.js'), path.join(root, 'dist', 'cli', 'claude-bridge.cjs')];
const sources = newest(path.join(root, 'src'));
if (outputs.some((output) => !existsSync(output) || statSync(output).mtimeMs < sources)) {
  console.error('claude-bridge: building (tsc, bundle)…');
  run('npm run build --silent');
}
// the optional native line scanner: tried again only when its sources change (build-native.mjs)
if (!nativeUpToDate()) run('node scripts/build-native.mjs');
