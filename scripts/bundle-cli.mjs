// Bundles the `claude-bridge` bin (src/cli/claude-bridge.ts) with the status line command into one
// CommonJS file, dist/cli/claude-bridge.cjs (see that source for why). main.js, the ES module entry
// of every other command, stays outside: tsc builds it.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outfile = path.join(root, 'dist', 'cli', 'claude-bridge.cjs');
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'claude-bridge.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['./main.js'],
  logLevel: 'warning',
});
console.error(`claude-bridge bin: ${outfile}`);
