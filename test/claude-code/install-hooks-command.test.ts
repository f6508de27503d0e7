import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COMMAND_HOOK_EVENTS, HTTP_HOOK_EVENTS } from '../../src/cli/install-hooks.js';
import { settingsSandbox } from '../support/install-hooks.js';

/** A settings file with someone else's hooks, which every run must keep as they are. */
const FOREIGN = {
  model: 'sonnet',
  hooks: {
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'uv run .claude/hooks/pre_tool_use.py' }] }],
    SessionStart: [{ hooks: [{ type: 'command', command: 'uv run .claude/hooks/send_event.py --event-type SessionStart' }] }],
  },
};

describe('claude-bridge install-hooks --command', () => {
  const sandbox = settingsSandbox('install-command-');
  const { run } = sandbox;
  const settings = () => JSON.parse(readFileSync(sandbox.file, 'utf8'));
  const bridgeHooks = (s: any) =>
    Object.fromEntries(
      Object.entries(s.hooks as Record<string, { hooks: any[] }[]>).map(([event, groups]) => [
        event,
        groups.flatMap((g) => g.hooks).filter((h) => h.url?.includes('/hooks/') || h.command?.startsWith('claude-bridge hook ')),
      ]),
    );

  it('installs one `claude-bridge hook <Event>` per event, SessionStart included, and keeps every other hook', async () => {
    writeFileSync(sandbox.file, JSON.stringify(FOREIGN, null, 2));
    const result = await run('--command', '--url', 'http://127.0.0.1:8123', '--config', 'bridge.yaml');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: .*bridge\.yaml does not exist/);
    const installed = settings();
    expect(Object.keys(bridgeHooks(installed)).sort()).toEqual([...COMMAND_HOOK_EVENTS].sort());
    for (const event of COMMAND_HOOK_EVENTS) {
      const timeout = event === 'PreToolUse' ? 60 : event === 'UserPromptSubmit' ? 30 : 10;
      expect(bridgeHooks(installed)[event]).toEqual([
        { type: 'command', command: `claude-bridge hook ${event} --url http://127.0.0.1:8123 --config ${path.join(sandbox.dir, 'bridge.yaml')}`, timeout },
      ]);
    }
    expect(installed.hooks.PreToolUse[0]).toEqual(FOREIGN.hooks.PreToolUse[0]);
    expect(installed.hooks.PreToolUse[1].matcher).toBe('*');
    expect(installed.hooks.SessionStart[0]).toEqual(FOREIGN.hooks.SessionStart[0]);
    expect(installed.model).toBe('sonnet');
  });

  it('replaces the bridge’s HTTP hooks, and plain install-hooks replaces the commands again: never both', async () => {
    writeFileSync(sandbox.file, JSON.stringify(FOREIGN, null, 2));
    await run();
    expect(bridgeHooks(settings()).PreToolUse).toEqual([{ type: 'http', url: 'http://127.0.0.1:8080/hooks/PreToolUse', timeout: 60 }]);
    const toCommands = await run('--command');
    expect(toCommands.stdout).toMatch(/removed PreToolUse \(HTTP hook\)/);
    expect(Object.values(bridgeHooks(settings())).flat().map((h: any) => h.type)).toEqual(COMMAND_HOOK_EVENTS.map(() => 'command'));
    const toHttp = await run();
    expect(toHttp.stdout).toMatch(/removed SessionStart \(command hook\)/);
    const back = bridgeHooks(settings());
    expect(Object.values(back).flat().map((h: any) => h.type)).toEqual(HTTP_HOOK_EVENTS.map(() => 'http'));
    expect(settings().hooks.SessionStart).toEqual(FOREIGN.hooks.SessionStart);
  });

  it('is idempotent, --dry-run writes nothing, and --uninstall restores the file byte for byte', async () => {
    writeFileSync(sandbox.file, `${JSON.stringify(FOREIGN, null, 2)}\n`);
    const original = readFileSync(sandbox.file, 'utf8');
    const dry = await run('--command', '--dry-run');
    expect(dry.code).toBe(0);
    expect(bridgeHooks(JSON.parse(dry.stdout)).Stop).toEqual([{ type: 'command', command: 'claude-bridge hook Stop --url http://127.0.0.1:8080', timeout: 10 }]);
    expect(readFileSync(sandbox.file, 'utf8')).toBe(original);

    await run('--command');
    const installed = readFileSync(sandbox.file, 'utf8');
    expect(await run('--command')).toMatchObject({ code: 0, stdout: expect.stringMatching(/already up to date/) });
    expect(readFileSync(sandbox.file, 'utf8')).toBe(installed);
    expect(readdirSync(sandbox.dir).filter((f) => f.startsWith('settings.json.bak-'))).toHaveLength(1);

    expect((await run('--uninstall')).code).toBe(0);
    expect(readFileSync(sandbox.file, 'utf8')).toBe(original);
  });

  it('a new --url or --config updates the commands in place', async () => {
    await run('--command');
    const result = await run('--command', '--url', 'http://127.0.0.1:9999');
    expect(result.stdout).toMatch(/updated PreToolUse/);
    expect(bridgeHooks(settings()).PreToolUse).toEqual([{ type: 'command', command: 'claude-bridge hook PreToolUse --url http://127.0.0.1:9999', timeout: 60 }]);
  });

  it('quotes what a shell would split: the command runs as written', async () => {
    const config = path.join(sandbox.dir, "my bridge's config.yaml");
    writeFileSync(config, '');
    await run('--command', '--config', config);
    const command: string = bridgeHooks(settings()).Stop![0].command;
    // the shell Claude Code runs hooks with gets back exactly these arguments
    const echoed = spawnSync('sh', ['-c', `printf '%s\\n' ${command.slice('claude-bridge '.length)}`], { encoding: 'utf8' });
    expect(echoed.stdout.split('\n').slice(0, 6)).toEqual(['hook', 'Stop', '--url', 'http://127.0.0.1:8080', '--config', config]);
  });

  it('--config without --command is a usage error', async () => {
    expect(await run('--config', 'bridge.yaml')).toMatchObject({ code: 2, stderr: expect.stringMatching(/--config only applies to command hooks/) });
  });
});
