import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests read the shipped files from there). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function repoPath(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

/** Debian package that provides each external tool the tests run (installed by .ci/run). */
const PACKAGES: Record<string, string> = {
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  amtool: 'prometheus-alertmanager',
  'docker-compose': 'docker-compose',
  docker: 'docker.io',
  dockerd: 'docker.io',
  debootstrap: 'debootstrap',
  chromium: 'chromium',
};

export function findBinary(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * The tools that are missing. In CI (CI set) a missing tool is an error, so a broken install
 * cannot pass as skipped tests; locally the caller skips with a message.
 */
export function missingBinaries(names: string[]): string[] {
  const missing = names.filter((name) => findBinary(name) === null);
  if (missing.length > 0 && process.env.CI) {
    const packages = [...new Set(missing.map((m) => PACKAGES[m] ?? m))].join(' ');
    throw new Error(`required tools missing in CI: ${missing.join(', ')} (apt-get install ${packages})`);
  }
  return missing;
}

/**
 * The title a test or suite is skipped under. test/support/skip-reporter.cjs finds this mark in
 * the results and repeats it, with the install command, in the last lines of `npm test`.
 */
function skippedTitle(title: string, missing: string[]): string {
  const packages = [...new Set(missing.map((m) => PACKAGES[m] ?? m))].join(' ');
  return `${title} [skipped: ${missing.join(', ')} not installed; apt-get install ${packages}]`;
}

/** `describe` that skips when a tool is missing locally (and fails in CI). */
export function describeWithBinaries(names: string[], title: string, body: () => void): void {
  const missing = missingBinaries(names);
  if (missing.length === 0) describe(title, body);
  else describe.skip(skippedTitle(title, missing), body);
}

/** `it` that skips when a tool is missing locally (and fails in CI). */
export function itWithBinaries(names: string[], title: string, body: () => Promise<void>, timeoutMs?: number): void {
  const missing = missingBinaries(names);
  if (missing.length === 0) it(title, body, timeoutMs);
  else it.skip(skippedTitle(title, missing), body, timeoutMs);
}

/** How to get a container engine with the images the container suites run (scripts/containers.sh). */
export const CONTAINERS_SCRIPT = 'sudo bash scripts/containers.sh up';

/**
 * What keeps the container suites from running: a missing tool, an engine that does not answer,
 * or a missing image; null when nothing does. In CI (CI set) any of these is an error.
 */
export function containerEngineProblem(images: string[]): string | null {
  const problem = findContainerEngineProblem(images);
  if (problem && process.env.CI) throw new Error(`container suites cannot run in CI: ${problem} (.ci/run runs ${CONTAINERS_SCRIPT})`);
  return problem;
}

function findContainerEngineProblem(images: string[]): string | null {
  const tools = ['docker', 'docker-compose'].filter((name) => findBinary(name) === null);
  if (tools.length > 0) {
    const packages = [...new Set([...tools.map((t) => PACKAGES[t] ?? t), PACKAGES.dockerd!, PACKAGES.debootstrap!])];
    return `${tools.join(', ')} not installed (apt-get install ${packages.join(' ')})`;
  }
  const engine = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 15_000 });
  if (engine.status !== 0) return 'no container engine answers';
  const missing = images.filter((image) => spawnSync('docker', ['image', 'inspect', image], { timeout: 15_000 }).status !== 0);
  return missing.length > 0 ? `image${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing` : null;
}

/**
 * `describe` that runs with a container engine and the given images, skips without them locally
 * (naming the command that provides them; test/support/skip-reporter.cjs repeats it at the end of
 * `npm test`) and fails without them in CI.
 */
export function describeWithContainerEngine(images: string[], title: string, body: () => void): void {
  const problem = containerEngineProblem(images);
  if (problem === null) describe(title, body);
  else describe.skip(`${title} [skipped: ${problem}; run: ${CONTAINERS_SCRIPT}]`, body);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; the output is returned, not thrown. */
export function run(command: string, args: string[], options: { cwd?: string; input?: string; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO_ROOT,
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
