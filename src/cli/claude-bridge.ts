#!/usr/bin/env node
// The `claude-bridge` bin. scripts/bundle-cli.mjs bundles this file and the status line command
// into ONE CommonJS file, dist/cli/claude-bridge.cjs: Claude Code runs `claude-bridge statusline`
// on every UI update, and a CommonJS file starts without Node's ES module loader and without
// resolving and reading a module file per import. Every other command goes to the ES module entry
// (main.js), which the bundle leaves out.
import { runStatusline } from './statusline.js';

async function launch(argv: string[]): Promise<void> {
  const code = argv[0] === 'statusline' ? await runStatusline(argv.slice(1)) : null;
  if (code !== null) {
    process.exitCode = code;
    return;
  }
  const { runCli } = await import('./main.js');
  await runCli(argv);
}

launch(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`claude-bridge: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
