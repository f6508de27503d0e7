import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderRuleFile } from '../alerts/rules.js';
import { ConfigError, loadConfig } from '../config/index.js';
import { UsageError, type CliIO, type Command } from './command.js';

export const rulesCommand: Command = {
  name: 'rules',
  usage: `claude-bridge rules [--config PATH] [--out FILE] [--check]

  --config PATH   config whose thresholds, for-durations and recovery actions the rules carry
                  (default ./config.yaml; env CLAUDE_BRIDGE_CONFIG); built-in defaults when absent
  --out FILE      write the rule file there (default: print it)
  --check         do not write: exit 1 when FILE differs from what would be generated (needs --out)`,
  options: {
    config: { type: 'string', short: 'c' },
    out: { type: 'string', short: 'o' },
    check: { type: 'boolean' },
  },
  async run(values, io) {
    const out = typeof values.out === 'string' ? path.resolve(io.cwd, values.out) : null;
    if (values.check && !out) throw new UsageError('--check needs --out FILE: the file to compare');
    let rules: string;
    try {
      const loaded = loadConfig(typeof values.config === 'string' ? { configPath: values.config } : {}, io.env, io.cwd);
      for (const notice of loaded.notices) io.stderr(`claude-bridge rules: ${notice}\n`);
      rules = renderRuleFile(loaded.config);
    } catch (error) {
      if (error instanceof ConfigError) {
        io.stderr(`claude-bridge: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    if (!out) {
      io.stdout(rules);
      return 0;
    }
    return values.check ? checkFile(out, rules, io) : writeRules(out, rules, io);
  },
};

function writeRules(file: string, rules: string, io: CliIO): number {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, rules);
  io.stdout(`wrote ${path.relative(io.cwd, file) || file}\n`);
  return 0;
}

function checkFile(file: string, rules: string, io: CliIO): number {
  const shown = path.relative(io.cwd, file) || file;
  if (!existsSync(file)) {
    io.stderr(`${shown} does not exist: generate it with "claude-bridge rules --out ${shown}" (npm run rules)\n`);
    return 1;
  }
  const current = readFileSync(file, 'utf8');
  if (current === rules) {
    io.stdout(`${shown} is up to date\n`);
    return 0;
  }
  io.stderr(`${shown} differs from the generated rules (${firstDifference(current, rules)}): regenerate it with "npm run rules"\n`);
  return 1;
}

function firstDifference(current: string, expected: string): string {
  const a = current.split('\n');
  const b = expected.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: has ${JSON.stringify(a[at] ?? '<end of file>')}, expected ${JSON.stringify(b[at] ?? '<end of file>')}`;
}
