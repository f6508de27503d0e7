#!/usr/bin/env node
import type { CliIO, Command } from './command.js';

// Nothing is imported up front: `claude-bridge statusline` runs on every status line update and
// must start about as fast as Node itself, so every module (even node:fs, whose ESM wrapper
// loads its stream classes, the version and the argument parser) is loaded when a command needs it.

interface CommandEntry {
  name: string;
  summary: string;
  /** Loaded on use: the status line runs on every UI update and must not pay for the server's modules. */
  load(): Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: 'serve',
    summary: 'Run the bridge: HTTP API on :8080, sources, embedded alerting, recovery controller.',
    load: async () => (await import('./serve.js')).serveCommand,
  },
  {
    name: 'rules',
    summary: 'Generate the Prometheus alerting and recording rules from the config and the alert table.',
    load: async () => (await import('./rules.js')).rulesCommand,
  },
  {
    name: 'statusline',
    summary: 'Claude Code status line: forwards its JSON to the bridge and prints one line (usage, cost, burn rate, state).',
    load: async () => (await import('./statusline.js')).statuslineCommand,
  },
  {
    name: 'install-hooks',
    summary: "Add the bridge's HTTP hooks to Claude Code's settings.json (keeps every existing hook).",
    load: async () => (await import('./install-hooks.js')).installHooksCommand,
  },
];

async function overview(): Promise<string> {
  const { BRIDGE_VERSION } = await import('../version.js');
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `claude-bridge ${BRIDGE_VERSION}: Claude Code monitoring bridge

Usage: claude-bridge <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run 'claude-bridge <command> --help' for a command's options.
`;
}

export async function main(argv: string[], givenIO?: CliIO): Promise<number> {
  const { parseCommandArgs, processIO, UsageError } = await import('./command.js');
  const io = givenIO ?? processIO();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(await overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { BRIDGE_VERSION } = await import('../version.js');
    io.stdout(`${BRIDGE_VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr(`claude-bridge: unknown command "${name}"\n\n${await overview()}`);
    return 2;
  }
  const command = await entry.load();
  try {
    const values = parseCommandArgs(command, rest);
    if (values.help) {
      io.stdout(`${command.usage}\n`);
      return 0;
    }
    return await command.run(values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`claude-bridge ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    io.stderr(`claude-bridge ${command.name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function invokedDirectly(): Promise<boolean> {
  // import.meta.filename (Node ≥ 20.11) spares loading node:url
  const self = import.meta.filename ?? (await import('node:url')).fileURLToPath(import.meta.url);
  if (process.argv[1] === self) return true;
  try {
    const { realpathSync } = await import('node:fs');
    return realpathSync(process.argv[1] ?? '') === realpathSync(self);
  } catch {
    return false;
  }
}

/** `claude-bridge statusline` with well-formed options skips the generic argument parser (see statusline.ts). */
async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'statusline') {
    const { runStatusline } = await import('./statusline.js');
    const code = await runStatusline(argv.slice(1));
    if (code !== null) return code;
  }
  return main(argv);
}

if (await invokedDirectly()) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`claude-bridge: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
