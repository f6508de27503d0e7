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
  /** Name of a leading positional argument, handed to the command as that option (`hook <Event>`). */
  positional?: string;
  /** Exit code for a usage error, when 2 would mean something to the caller (Claude Code reads a hook's 2 as "block"). */
  usageErrorExit?: number;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: 'serve',
    summary: 'Run the bridge: HTTP API on :8080, sources, embedded alerting, recovery controller.',
    load: async () => {
      // before the server's modules load: they are the first burst that would grow the heap
      (await import('./heap.js')).keepHeapSmall(process.env);
      return (await import('./serve.js')).serveCommand;
    },
  },
  {
    name: 'rules',
    summary: 'Generate the Prometheus alerting and recording rules from the config and the alert table.',
    load: async () => (await import('./rules.js')).rulesCommand,
  },
  {
    name: 'team',
    summary: "Generate a team's Prometheus scrape config and rules and its Alertmanager config from a team file.",
    load: async () => (await import('./team.js')).teamCommand,
  },
  {
    name: 'statusline',
    summary: 'Claude Code status line: forwards its JSON to the bridge and prints one line (usage, cost, burn rate, state).',
    load: async () => (await import('./statusline.js')).statuslineCommand,
  },
  {
    name: 'status',
    summary: 'The bridge at a glance: recovery state, alerts, usage, sessions, sources (exit 0 normal, 1 down, 2 paused/backoff).',
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'install-hooks',
    summary: "Add the bridge's HTTP hooks (or, with --command, command hooks) to Claude Code's settings.json (keeps every existing hook).",
    load: async () => (await import('./install-hooks.js')).installHooksCommand,
  },
  {
    name: 'hook',
    summary: "Claude Code command hook: asks the bridge for the decision; with the bridge down, applies its last saved state.",
    load: async () => (await import('./hook.js')).hookCommand,
    positional: 'event',
    usageErrorExit: 1,
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
    const [positional, args] = entry.positional && rest[0] !== undefined && !rest[0].startsWith('-') ? [rest[0], rest.slice(1)] : [undefined, rest];
    const values = parseCommandArgs(command, args);
    if (values.help) {
      io.stdout(`${command.usage}\n`);
      return 0;
    }
    if (entry.positional && positional !== undefined) values[entry.positional] = positional;
    return await command.run(values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`claude-bridge ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return entry.usageErrorExit ?? 2;
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

/** Runs the command line and sets the process's exit code; also the way in from the `claude-bridge` bin (claude-bridge.ts). */
export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await run(argv);
  } catch (error) {
    process.stderr.write(`claude-bridge: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

// not awaited: a top-level await still pending when the event loop empties (a command that never
// settles) would end the process with exit code 13 instead of the command's own
if (await invokedDirectly()) void runCli(process.argv.slice(2));
