import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { TELEMETRY_MARKER, telemetryEnv } from '../../src/cli/telemetry.js';
import { settingsSandbox } from '../support/install-hooks.js';

/** `claude-bridge install-hooks --telemetry`: the env block of a real settings.json on disk. */
describe('install-hooks --telemetry', () => {
  const sandbox = settingsSandbox('install-telemetry-');
  const { run } = sandbox;
  const write = (value: unknown) => writeFileSync(sandbox.file, `${JSON.stringify(value, null, 2)}\n`);
  const read = () => JSON.parse(readFileSync(sandbox.file, 'utf8'));
  const ours = telemetryEnv('http://127.0.0.1:4318');

  it('adds the variables beside the user\'s own env entries, once; --uninstall removes only them', async () => {
    const original = { env: { ANTHROPIC_MODEL: 'claude-sonnet-4-5', OTEL_METRICS_EXPORTER: 'otlp,console' }, model: 'sonnet' };
    write(original);
    const first = await run('--telemetry');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/set env.OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127.0.0.1:4318/);
    const settings = read();
    expect(settings.env).toMatchObject({ ...ours, ANTHROPIC_MODEL: 'claude-sonnet-4-5', OTEL_METRICS_EXPORTER: 'otlp,console' });
    expect(settings.env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    expect(JSON.parse(settings.env[TELEMETRY_MARKER]).keys).not.toContain('OTEL_METRICS_EXPORTER'); // the user's, kept as it works
    expect(settings.hooks.StopFailure).toHaveLength(1);

    const again = await run('--telemetry');
    expect(again.stdout).toMatch(/already up to date/);
    expect(read()).toEqual(settings);

    expect((await run('--uninstall')).code).toBe(0);
    expect(read()).toEqual(original);
    expect(readdirSync(sandbox.dir).filter((f) => f.includes('.bak-')).length).toBe(2);
  });

  it('--dry-run shows the env block and writes nothing', async () => {
    write({});
    const dry = await run('--telemetry', '--dry-run', '--telemetry-url', 'http://127.0.0.1:14318/');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout).env).toMatchObject({ ...telemetryEnv('http://127.0.0.1:14318') });
    expect(dry.stderr).toMatch(/dry run, not written/);
    expect(read()).toEqual({});
  });

  it('refuses to replace the user\'s endpoint, saying how to fan out from a Collector; --force-telemetry replaces it and --uninstall restores it', async () => {
    const original = { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.internal:4318', CLAUDE_CODE_ENABLE_TELEMETRY: '1' } };
    write(original);
    const refused = await run('--telemetry');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT is already set to "http:\/\/collector.internal:4318"/);
    expect(refused.stderr).toMatch(/otlphttp\/claude-bridge: \{ endpoint: http:\/\/127.0.0.1:4318/);
    expect(refused.stderr).toMatch(/--force-telemetry/);
    expect(read()).toEqual(original);
    expect(readdirSync(sandbox.dir).filter((f) => f.includes('.bak-'))).toEqual([]);

    const forced = await run('--force-telemetry');
    expect(forced.code).toBe(0);
    expect(read().env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://127.0.0.1:4318');
    await run('--uninstall');
    expect(read()).toEqual(original);
  });

  it('a per-signal endpoint the user set would bypass the bridge: refused too', async () => {
    write({ env: { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://127.0.0.1:9999/v1/logs' } });
    const refused = await run('--telemetry');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is set/);
  });

  it('a later install with another URL updates the bridge\'s own entries', async () => {
    await run('--telemetry');
    const moved = await run('--telemetry', '--telemetry-url', 'http://127.0.0.1:14318');
    expect(moved.stdout).toMatch(/updated env.OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127.0.0.1:14318/);
    await run('--uninstall');
    expect(read().env).toBeUndefined();
    expect((await run('--telemetry', '--telemetry-url', 'ftp://x')).code).toBe(2);
  });
});
