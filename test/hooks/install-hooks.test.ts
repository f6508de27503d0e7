import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliIO } from '../../src/cli/command.js';
import { HTTP_HOOK_EVENTS, installHooksCommand } from '../../src/cli/install-hooks.js';
import { main } from '../../src/cli/main.js';

const sendEvent = (event: string, extra = '') => ({
  type: 'command',
  command: `uv run .claude/hooks/send_event.py --source-app cc-hook-multi-agent-obvs --event-type ${event}${extra}`,
});

/** A settings.json as the observability system installs it, plus a foreign HTTP hook and a status line. */
const OBSERVABILITY_SETTINGS = {
  permissions: { allow: ['Bash(npm test:*)'], deny: [] },
  hooks: {
    PreToolUse: [
      { matcher: '', hooks: [{ type: 'command', command: 'uv run .claude/hooks/pre_tool_use.py' }, sendEvent('PreToolUse', ' --summarize')] },
      { matcher: 'Bash', hooks: [{ type: 'http', url: 'http://audit.example/hooks/PreToolUse', timeout: 5 }] },
    ],
    PostToolUse: [{ matcher: '', hooks: [sendEvent('PostToolUse', ' --summarize')] }],
    SessionStart: [{ hooks: [sendEvent('SessionStart')] }],
    Stop: [{ hooks: [{ type: 'command', command: 'uv run .claude/hooks/stop.py --chat' }, sendEvent('Stop', ' --add-chat')] }],
  },
  statusLine: { type: 'command', command: '~/.claude/statusline.sh', padding: 0 },
  model: 'sonnet',
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('claude-bridge install-hooks', () => {
  let dir: string;
  let file: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'install-hooks-'));
    file = path.join(dir, 'settings.json');
    env = { HOME: dir };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(...args: string[]): Promise<Run> {
    const out = { stdout: '', stderr: '' };
    const io: CliIO = { stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), env, cwd: dir };
    const code = await main(['install-hooks', ...args], io);
    return { code, ...out };
  }

  const writeSettings = (value: unknown) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  const readSettings = () => JSON.parse(readFileSync(file, 'utf8'));
  const backups = () => readdirSync(dir).filter((f) => f.startsWith('settings.json.bak-'));
  const httpEntries = (settings: any, event: string) =>
    (settings.hooks[event] ?? []).flatMap((g: any) => g.hooks).filter((h: any) => h.url?.startsWith('http://127.0.0.1:8080/hooks/'));

  it('adds one HTTP hook per supported event and keeps every existing hook', async () => {
    writeSettings(OBSERVABILITY_SETTINGS);
    const original = readFileSync(file, 'utf8');
    const result = await run('--settings', file);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/added PreToolUse/);

    const settings = readSettings();
    for (const event of HTTP_HOOK_EVENTS) {
      const timeout = event === 'PreToolUse' ? 60 : event === 'UserPromptSubmit' ? 30 : 10;
      expect(httpEntries(settings, event)).toEqual([{ type: 'http', url: `http://127.0.0.1:8080/hooks/${event}`, timeout }]);
    }
    expect(settings.hooks.SessionStart).toEqual(OBSERVABILITY_SETTINGS.hooks.SessionStart); // no HTTP hooks there
    for (const [event, groups] of Object.entries(OBSERVABILITY_SETTINGS.hooks)) {
      expect(settings.hooks[event].slice(0, groups.length)).toEqual(groups);
    }
    expect(settings.hooks.PreToolUse.at(-1)).toEqual({ matcher: '*', hooks: [httpEntries(settings, 'PreToolUse')[0]] });
    expect(settings.hooks.UserPromptSubmit).toEqual([{ hooks: [{ type: 'http', url: 'http://127.0.0.1:8080/hooks/UserPromptSubmit', timeout: 30 }] }]);
    const { hooks: _h, ...rest } = settings;
    const { hooks: _o, ...originalRest } = OBSERVABILITY_SETTINGS;
    expect(rest).toEqual(originalRest);

    expect(backups()).toHaveLength(1);
    expect(readFileSync(path.join(dir, backups()[0]!), 'utf8')).toBe(original);
    expect(result.stdout).toContain(`backup: ${path.join(dir, backups()[0]!)}`);
  });

  it('is idempotent: a second run changes nothing and writes no backup', async () => {
    writeSettings(OBSERVABILITY_SETTINGS);
    await run('--settings', file);
    const installed = readFileSync(file, 'utf8');
    const second = await run('--settings', file);
    expect(second).toMatchObject({ code: 0, stdout: expect.stringMatching(/already up to date/) });
    expect(readFileSync(file, 'utf8')).toBe(installed);
    expect(backups()).toHaveLength(1);
  });

  it('--uninstall removes only its own entries and restores the original file', async () => {
    writeSettings(OBSERVABILITY_SETTINGS);
    const original = readFileSync(file, 'utf8');
    await run('--settings', file);
    const result = await run('--settings', file, '--uninstall');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/removed PreToolUse/);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(await run('--settings', file, '--uninstall')).toMatchObject({ code: 0, stdout: expect.stringMatching(/nothing to change/) });
  });

  it('updates an outdated entry in place and drops duplicates of it', async () => {
    writeSettings({
      hooks: {
        PreToolUse: [
          { matcher: '*', hooks: [{ type: 'http', url: 'http://127.0.0.1:8080/hooks/PreToolUse', timeout: 5 }] },
          { matcher: '*', hooks: [{ type: 'http', url: 'http://127.0.0.1:8080/hooks/PreToolUse', timeout: 60 }] },
        ],
      },
    });
    const result = await run('--settings', file);
    expect(result.stdout).toMatch(/updated PreToolUse \(removed 1 duplicate entries\)/);
    expect(readSettings().hooks.PreToolUse).toEqual([{ matcher: '*', hooks: [{ type: 'http', url: 'http://127.0.0.1:8080/hooks/PreToolUse', timeout: 60 }] }]);
  });

  it('refuses invalid JSON with a clear error and writes nothing', async () => {
    writeFileSync(file, '{ "hooks": { "PreToolUse": [ }');
    const result = await run('--settings', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/settings\.json is not valid JSON .*nothing was changed/);
    expect(readFileSync(file, 'utf8')).toBe('{ "hooks": { "PreToolUse": [ }');
    expect(backups()).toEqual([]);
    writeSettings({ hooks: { PreToolUse: 'oops' } });
    expect(await run('--settings', file)).toMatchObject({ code: 1, stderr: expect.stringMatching(/"hooks.PreToolUse" is not a list/) });
  });

  it('--dry-run prints the result and writes nothing', async () => {
    writeSettings(OBSERVABILITY_SETTINGS);
    const original = readFileSync(file, 'utf8');
    const result = await run('--settings', file, '--dry-run');
    expect(result.code).toBe(0);
    expect(httpEntries(JSON.parse(result.stdout), 'Stop')).toHaveLength(1);
    expect(result.stderr).toMatch(/dry run, not written/);
    expect(readFileSync(file, 'utf8')).toBe(original);
    expect(backups()).toEqual([]);
  });

  it('defaults to $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json, creating it when missing', async () => {
    expect((await run()).code).toBe(0);
    expect(httpEntries(JSON.parse(readFileSync(path.join(dir, '.claude', 'settings.json'), 'utf8')), 'PreToolUse')).toHaveLength(1);
    const configDir = path.join(dir, 'custom');
    mkdirSync(configDir);
    env.CLAUDE_CONFIG_DIR = configDir;
    expect((await run('--url', 'http://localhost:9999/')).code).toBe(0);
    const settings = JSON.parse(readFileSync(path.join(configDir, 'settings.json'), 'utf8'));
    expect(settings.hooks.Stop).toEqual([{ hooks: [{ type: 'http', url: 'http://localhost:9999/hooks/Stop', timeout: 10 }] }]);
    expect(readdirSync(configDir)).toEqual(['settings.json']); // nothing to back up
    expect((await run('--uninstall', '--url', 'http://localhost:9999')).code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(configDir, 'settings.json'), 'utf8'))).toEqual({});
  });

  it('recognises its entries by URL prefix: another bridge URL is left alone', async () => {
    writeSettings(OBSERVABILITY_SETTINGS);
    await run('--settings', file);
    await run('--settings', file, '--url', 'http://127.0.0.1:9090');
    await run('--settings', file, '--uninstall', '--url', 'http://127.0.0.1:9090');
    const settings = readSettings();
    expect(httpEntries(settings, 'PreToolUse')).toHaveLength(1);
    expect(JSON.stringify(settings)).not.toContain('9090');
    expect(settings.hooks.PreToolUse[1].hooks[0].url).toBe('http://audit.example/hooks/PreToolUse');
  });

  it('--statusline keeps a different status line unless forced; uninstall removes only its own', async () => {
    writeSettings(OBSERVABILITY_SETTINGS);
    const kept = await run('--settings', file, '--statusline');
    expect(kept.stderr).toMatch(/kept the existing statusLine .*--force-statusline/);
    expect(readSettings().statusLine).toEqual(OBSERVABILITY_SETTINGS.statusLine);

    const forced = await run('--settings', file, '--force-statusline');
    expect(forced.stdout).toMatch(/replaced statusLine/);
    expect(readSettings().statusLine).toEqual({ type: 'command', command: 'claude-bridge statusline --url http://127.0.0.1:8080' });
    expect((await run('--settings', file, '--statusline')).stdout).toMatch(/nothing to change/);

    await run('--settings', file, '--uninstall');
    expect(readSettings().statusLine).toBeUndefined();

    writeSettings({ statusLine: OBSERVABILITY_SETTINGS.statusLine });
    await run('--settings', file, '--uninstall');
    expect(readSettings().statusLine).toEqual(OBSERVABILITY_SETTINGS.statusLine);
  });

  it('rejects a bad --url and is listed in the CLI', async () => {
    expect(await run('--url', 'ftp://x')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--url expects an http\(s\) URL/) });
    expect(existsSync(path.join(dir, '.claude'))).toBe(false);
    let overview = '';
    expect(await main(['--help'], { stdout: (t) => void (overview += t), stderr: () => undefined, env, cwd: dir })).toBe(0);
    expect(overview).toMatch(/install-hooks +Add the bridge's HTTP hooks/);
    expect(installHooksCommand.usage).toContain('--force-statusline');
  });
});
