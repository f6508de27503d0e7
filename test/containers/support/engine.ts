/**
 * The container suites' view of the engine: the images they need (named by the Dockerfile and
 * docker-compose.yml, made by scripts/containers.sh where no registry is reachable), the bridge
 * image build, and the docker CLI.
 */
import { spawn, spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { readRepoFile, REPO_ROOT } from '../../support/binaries.js';

/** testcontainers' reaper needs an image from a registry; the suites remove what they start. */
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

/** The label scripts/containers.sh puts on a stand-in: what it really carries. */
export const STAND_IN_LABEL = 'claude-monitoring-bridge.stand-in';

interface ComposeFile {
  services: Record<string, { image?: string }>;
}

export function composeImage(service: string): string {
  const image = (parse(readRepoFile('docker-compose.yml')) as ComposeFile).services[service]?.image;
  if (!image) throw new Error(`docker-compose.yml has no image for ${service}`);
  return image;
}

/** The Dockerfile's default base image (ARG NODE_IMAGE). */
export function dockerfileNodeImage(): string {
  const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(readRepoFile('Dockerfile'))?.[1];
  if (!image) throw new Error('the Dockerfile has no ARG NODE_IMAGE=');
  return image;
}

/** The tag the compose file gives the bridge image (what `docker compose build` makes). */
export const BRIDGE_IMAGE = composeImage('bridge');

export interface DockerResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the docker CLI to completion (a few seconds at most). */
export function docker(args: string[], timeoutMs = 60_000): DockerResult {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: timeoutMs });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The engine's clock: the containers run on it, whatever clock this process has been given. */
export function engineNow(): number {
  return Date.parse(dockerOk(['info', '--format', '{{.SystemTime}}']));
}

export function dockerOk(args: string[], timeoutMs?: number): string {
  const result = docker(args, timeoutMs);
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.status}): ${result.stderr.trim()}`);
  return result.stdout.trim();
}

export function inspect<T = any>(kind: 'image' | 'container' | 'volume' | 'network', name: string): T {
  return (JSON.parse(dockerOk([kind, 'inspect', name])) as T[])[0]!;
}

/** "real image" or what a stand-in carries, for the test output. */
export function describeImage(image: string): string {
  const labels = (inspect('image', image) as { Config: { Labels: Record<string, string> | null } }).Config.Labels ?? {};
  return labels[STAND_IN_LABEL] ? `stand-in: ${labels[STAND_IN_LABEL]}` : 'the real image';
}

export interface BuildResult {
  image: string;
  seconds: number;
  sizeBytes: number;
  /** Every step came from the layer cache. */
  cached: boolean;
}

/**
 * Builds the repository's Dockerfile as the compose file tags it. The legacy builder (BuildKit
 * would fetch its frontend from a registry) with host networking: npm install must reach the
 * registry, and the engine here forwards nothing for containers.
 */
export async function buildBridgeImage(): Promise<BuildResult> {
  const started = Date.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('docker', ['build', '--network', 'host', '-t', BRIDGE_IMAGE, REPO_ROOT], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`docker build exited ${code}:\n${text.slice(-4000)}`))));
  });
  const steps = output.match(/^Step \d+\/\d+ : (RUN|COPY) /gm)?.length ?? 0;
  const cachedSteps = output.match(/Using cache/g)?.length ?? 0;
  return {
    image: BRIDGE_IMAGE,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    sizeBytes: (inspect('image', BRIDGE_IMAGE) as { Size: number }).Size,
    cached: steps > 0 && cachedSteps >= steps,
  };
}

/** The host's address on the default docker bridge: what host.docker.internal (host-gateway) resolves to. */
export function dockerBridgeAddress(): string {
  const network = inspect('network', 'bridge') as { IPAM: { Config: { Gateway?: string }[] }; Options: Record<string, string> };
  const gateway = network.IPAM.Config.find((c) => c.Gateway)?.Gateway;
  if (gateway) return gateway;
  // Node lists only interfaces that are up and running; a bridge without containers has no carrier.
  const name = network.Options['com.docker.network.bridge.name'] ?? 'docker0';
  const shown = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', name], { encoding: 'utf8' });
  const address = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(shown.stdout ?? '')?.[1];
  if (!address) throw new Error(`no IPv4 address on ${name}, the docker bridge (ip: ${shown.error?.message ?? shown.stderr})`);
  return address;
}

export interface JsonResponse {
  status: number;
  /** The parsed body; undefined when it is not JSON. */
  body: any;
  text: string;
}

export async function requestJson(url: string, init: RequestInit = {}): Promise<JsonResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}
