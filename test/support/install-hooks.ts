import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliIO } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';

export interface SettingsSandbox {
  /** The folder: HOME and the working directory of every run. */
  dir: string;
  /** `dir/settings.json`, the file every run is given with --settings. */
  file: string;
  /** `claude-bridge install-hooks --settings <file> …args` in-process, with what it printed. */
  run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A fresh folder per test (made in beforeEach, removed in afterEach) for install-hooks to write a settings.json in. */
export function settingsSandbox(prefix: string): SettingsSandbox {
  const sandbox: SettingsSandbox = {
    dir: '',
    file: '',
    async run(...args) {
      const out = { stdout: '', stderr: '' };
      const io: CliIO = { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), env: { HOME: sandbox.dir }, cwd: sandbox.dir };
      const code = await main(['install-hooks', '--settings', sandbox.file, ...args], io);
      return { code, ...out };
    },
  };
  beforeEach(() => {
    sandbox.dir = mkdtempSync(path.join(tmpdir(), prefix));
    sandbox.file = path.join(sandbox.dir, 'settings.json');
  });
  afterEach(() => rmSync(sandbox.dir, { recursive: true, force: true }));
  return sandbox;
}
