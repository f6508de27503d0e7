// Builds the optional native line scanner (native/usage-scan.c) with node-gyp, npm's own copy.
// Optional: without a C compiler or Node's headers the bridge reads transcripts in JavaScript,
// with the same figures, more slowly; so a failed build warns and exits 0. It leaves
// native/build/failed.txt (why) so that `npm start` does not try again until the sources change.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.join(root, 'native');
const addon = path.join(dir, 'build', 'Release', 'usage_scan.node');
const failed = path.join(dir, 'build', 'failed.txt');
const sources = ['usage-scan.c', 'binding.gyp'].map((name) => path.join(dir, name));

export function nativeUpToDate() {
  const newest = Math.max(...sources.map((file) => statSync(file).mtimeMs));
  const done = [addon, failed].find((file) => existsSync(file));
  return done !== undefined && statSync(done).mtimeMs >= newest;
}

function nodeGyp() {
  // npm names its copy to the scripts it runs; elsewhere it sits beside npm
  const candidates = [process.env.npm_config_node_gyp, path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  return candidates.find((file) => file && existsSync(file)) ?? null;
}

/** The headers of the running Node where its install has them (no download), unless npm names a folder. */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.join(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
}

function build() {
  rmSync(failed, { force: true });
  const gyp = nodeGyp();
  try {
    if (!gyp) throw new Error("node-gyp not found (it comes with npm)");
    execFileSync(process.execPath, [gyp, 'rebuild', '--release', ...nodeDirArgs()], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    console.error('claude-bridge: native line scanner built (native/build/Release/usage_scan.node)');
  } catch (error) {
    const output = `${error.stderr ?? ''}`.trim().split('\n').filter((line) => /error/i.test(line)).slice(-3).join('\n');
    const why = output || error.message;
    mkdirSync(path.dirname(failed), { recursive: true });
    writeFileSync(failed, `${why}\n`);
    console.error(`claude-bridge: native line scanner not built; transcripts will be read in JavaScript (same figures, slower):\n${why}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && (process.argv.includes('--force') || !nativeUpToDate())) build();
