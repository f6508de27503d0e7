/**
 * The bridge image as `docker compose build` makes it, run with testcontainers against the local
 * engine: it serves /health, reads a mounted ~/.claude through the bundled ccusage, keeps its
 * recovery state in its volume, runs as a non-root user, and stops cleanly on `docker stop`.
 *
 * The engine and the base image come from scripts/containers.sh where no registry is reachable;
 * the bridge image is built from the repository's own Dockerfile.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { parseDocument } from 'yaml';
import { parseCcusageBlocks } from '../../src/sources/usage/ccusage-json.js';
import { describeWithContainerEngine, readRepoFile } from '../support/binaries.js';
import { readJsonFixture } from '../support/fixtures.js';
import { claudeConfigCopy, seriesValue, shiftToNow } from '../usage/support/usage.js';
import { buildBridgeImage, describeImage, docker, dockerfileNodeImage, engineNow, inspect, requestJson, type BuildResult, type JsonResponse } from './support/engine.js';

const BASE_IMAGE = dockerfileNodeImage();
const STATE_VOLUME_MOUNT = '/var/lib/claude-bridge';
const IMAGE_CONFIG = '/etc/claude-bridge/config.yaml';
const recordedActive = parseCcusageBlocks(readJsonFixture('ccusage', 'blocks.json')).find((b) => b.isActive)!;

/**
 * The shipped config.yaml with `usage.source: ccusage`: `auto` prefers the in-process transcript
 * reader, and what this suite checks is the image's bundled ccusage binary.
 */
function ccusageConfig(dir: string): string {
  const config = parseDocument(readRepoFile('config.yaml'));
  config.setIn(['usage', 'source'], 'ccusage');
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, String(config));
  chmodSync(file, 0o644);
  return file;
}

/** Everything under `dir` readable by any user (the image runs as uid 1000; mkdtemp makes 0700). */
function openToAll(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) openToAll(full);
    else chmodSync(full, 0o644);
  }
}

function getJson(container: StartedTestContainer, route: string): Promise<JsonResponse> {
  return requestJson(`http://${container.getHost()}:${container.getMappedPort(8080)}${route}`);
}

/** Polls until `probe` returns a value; the error names what was awaited and the container's log. */
async function waitFor<T>(what: string, container: StartedTestContainer, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      const logs = docker(['logs', '--tail', '40', container.getId()]);
      throw new Error(`timed out waiting for ${what} (last: ${last})\n--- container log ---\n${logs.stdout}${logs.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describeWithContainerEngine([BASE_IMAGE], `the bridge image (built on ${BASE_IMAGE}: ${safeDescribe(BASE_IMAGE)})`, () => {
  const claudeHome = mkdtempSync(path.join(tmpdir(), 'bridge-image-claude-'));
  const volume = `claude-bridge-image-test-${process.pid}-${Date.now()}`;
  const started: StartedTestContainer[] = [];
  let build: BuildResult;
  let bridge: StartedTestContainer;
  let shiftMs = 0;
  const configDir = mkdtempSync(path.join(tmpdir(), 'bridge-image-config-'));
  const configFile = ccusageConfig(configDir);
  chmodSync(configDir, 0o755);
  const configMount = { source: configFile, target: IMAGE_CONFIG, mode: 'ro' as const };

  const startBridge = () =>
    new GenericContainer(build.image)
      .withExposedPorts(8080)
      // The state volume by name, so a second container can be given the same one.
      .withBindMounts([
        { source: claudeHome, target: '/home/node/.claude', mode: 'ro' },
        { source: volume, target: STATE_VOLUME_MOUNT, mode: 'rw' },
        configMount,
      ])
      .withWaitStrategy(Wait.forHttp('/health', 8080).forStatusCodeMatching((status) => status < 500))
      .withStartupTimeout(60_000)
      .start()
      .then((container) => {
        started.push(container);
        return container;
      });

  beforeAll(async () => {
    build = await buildBridgeImage();
    console.log(
      `built ${build.image} in ${build.seconds} s${build.cached ? ' (every step from the layer cache)' : ''}, ` +
        `${Math.round(build.sizeBytes / 1e6)} MB, on ${BASE_IMAGE} (${describeImage(BASE_IMAGE)})`,
    );
    // The recorded active block, moved so it is active at the engine's (the container's) time.
    shiftMs = shiftToNow(recordedActive.lastActivity!, engineNow());
    claudeConfigCopy(claudeHome, 'claude-projects/-home-user-demo', '-home-user-demo', shiftMs);
    openToAll(claudeHome);
    bridge = await startBridge();
  }, 600_000);

  afterAll(async () => {
    for (const container of started) await container.stop({ timeout: 0 }).catch(() => undefined);
    docker(['volume', 'rm', '-f', volume]);
    rmSync(claudeHome, { recursive: true, force: true });
    rmSync(configDir, { recursive: true, force: true });
  }, 60_000);

  it('serves /health, and the HEALTHCHECK the image declares passes', async () => {
    const health = await getJson(bridge, '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).not.toBe('unhealthy');
    const test = (inspect('image', build.image) as { Config: { Healthcheck: { Test: string[] } } }).Config.Healthcheck.Test;
    expect(test[0]).toBe('CMD');
    const check = await bridge.exec(test.slice(1));
    expect({ exitCode: check.exitCode, output: check.output }).toEqual({ exitCode: 0, output: '' });
  });

  it('runs as the non-root user node (uid 1000), also in its main process', async () => {
    expect((inspect('image', build.image) as { Config: { User: string } }).Config.User).toBe('node');
    const status = await bridge.exec(['cat', '/proc/1/status']);
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status.output);
    expect(uids?.slice(1)).toEqual(['1000', '1000']);
    expect((await bridge.exec(['cat', '/proc/1/cmdline'])).output.split('\0')).toEqual(['node', 'dist/cli/main.js', 'serve', '']);
  });

  it("reads the mounted ~/.claude through ccusage: the active block's tokens reach /prometheus", async () => {
    const native = await bridge.exec(['sh', '-c', 'test -x node_modules/@ccusage/ccusage-linux-x64/bin/ccusage && echo executable']);
    expect(native.output.trim()).toBe('executable');
    const exposition = await waitFor('ccusage figures in /prometheus', bridge, async () => {
      const text = (await getJson(bridge, '/prometheus')).text;
      return seriesValue(text, 'claude_bridge_usage_block_tokens{kind="output"}') !== undefined ? text : undefined;
    });
    // fixtures/ccusage/blocks.json: the recorded active block, as ccusage counts it.
    expect(seriesValue(exposition, 'claude_bridge_usage_block_tokens{kind="input"}')).toBe(recordedActive.tokens.input);
    expect(seriesValue(exposition, 'claude_bridge_usage_block_tokens{kind="output"}')).toBe(25_980);
    expect(seriesValue(exposition, 'claude_bridge_usage_block_start_timestamp_seconds')).toBe((recordedActive.start + shiftMs) / 1000);
    const health = (await getJson(bridge, '/health')).body;
    expect(health.sources.ccusage).toMatchObject({ enabled: true, up: true, last_error: null });
  });

  it('a ccusage binary that cannot be made executable (the bug this image had) is named in /health with its cause', async () => {
    const broken = await new GenericContainer(build.image)
      .withExposedPorts(8080)
      .withBindMounts([{ source: claudeHome, target: '/home/node/.claude', mode: 'ro' }, configMount])
      .withWaitStrategy(Wait.forHttp('/health', 8080).forStatusCodeMatching((status) => status < 500))
      .start();
    started.push(broken);
    const binary = '/app/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage';
    expect((await broken.exec(['chmod', '0644', binary], { user: 'root' })).exitCode).toBe(0);
    await broken.restart();
    const error = await waitFor('ccusage reported down', broken, async () => {
      const ccusage = (await getJson(broken, '/health')).body.sources.ccusage;
      return ccusage.up === false && ccusage.last_error ? (ccusage.last_error as string) : undefined;
    });
    expect(error).toMatch(/not executable.*EPERM.*ccusage-linux-x64\/bin\/ccusage/);
  }, 60_000);

  it('keeps its recovery state in the volume: across a restart, and for a new container on the same volume', async () => {
    const paused = await fetch(`http://${bridge.getHost()}:${bridge.getMappedPort(8080)}/alerts/time_limit`, { method: 'POST' });
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as { recovery: { state: string } }).recovery.state).toBe('paused');
    const mounts = (inspect('container', bridge.getId()) as { Mounts: { Type: string; Name?: string; Destination: string }[] }).Mounts;
    expect(mounts).toContainEqual(expect.objectContaining({ Type: 'volume', Name: volume, Destination: STATE_VOLUME_MOUNT }));

    // Killed, not stopped (testcontainers restarts with no grace period): the 200 meant "saved".
    await bridge.restart();
    const afterRestart = await waitFor('the restarted bridge', bridge, async () => (await getJson(bridge, '/recovery/status')).body);
    expect(afterRestart.state).toBe('paused');

    await bridge.stop({ timeout: 10, remove: true, removeVolumes: false });
    started.splice(started.indexOf(bridge), 1);
    const second = await startBridge();
    expect((await getJson(second, '/recovery/status')).body.state).toBe('paused');
    bridge = second;
  }, 60_000);

  it('stops cleanly on `docker stop` within its grace period: exit code 0, not killed', async () => {
    const grace = 10;
    const stop = docker(['stop', '--time', String(grace), bridge.getId()], 60_000);
    expect(stop.status).toBe(0);
    const state = (inspect('container', bridge.getId()) as { State: { ExitCode: number; OOMKilled: boolean; Status: string } }).State;
    // Past the grace period docker sends SIGKILL, and the exit code is 137.
    expect(state).toMatchObject({ Status: 'exited', ExitCode: 0, OOMKilled: false });
    const logs = docker(['logs', bridge.getId()]);
    expect(`${logs.stdout}${logs.stderr}`).toMatch(/"msg":"bridge stopped"/);
  }, 60_000);
});

/** The base image's description for the suite title; the suite itself reports what is missing. */
function safeDescribe(image: string): string {
  try {
    return describeImage(image);
  } catch {
    return 'not inspected';
  }
}
