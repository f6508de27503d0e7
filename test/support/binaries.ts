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
 * A tool a test runs: found or not, and how it is installed: a Debian package, or another command
 * (e.g. Claude Code, installed by npm into a cache folder).
 */
export interface RequiredTool {
  name: string;
  found: boolean;
  aptPackage?: string;
  /** The install command when it is not a Debian package. */
  install?: string;
}

/** Executables on PATH, each from its Debian package. */
export function pathBinaries(names: string[]): RequiredTool[] {
  return names.map((name) => ({ name, found: findBinary(name) !== null, aptPackage: PACKAGES[name] ?? name }));
}

/** One command that installs them all: one apt-get for the Debian packages, then the others. */
export function installCommand(tools: RequiredTool[]): string {
  const packages = [...new Set(tools.flatMap((t) => (t.aptPackage ? [t.aptPackage] : [])))];
  const others = [...new Set(tools.flatMap((t) => (t.aptPackage || !t.install ? [] : [t.install])))];
  return [...(packages.length ? [`apt-get install ${packages.join(' ')}`] : []), ...others].join(' && ');
}

/**
 * The tools that are missing. In CI (CI set) a missing tool is an error, so a broken install
 * cannot pass as skipped tests; locally the caller skips with a message.
 */
export function missingTools(tools: RequiredTool[]): RequiredTool[] {
  const missing = tools.filter((tool) => !tool.found);
  if (missing.length > 0 && process.env.CI) {
    throw new Error(`required tools missing in CI: ${missing.map((t) => t.name).join(', ')} (${installCommand(missing)})`);
  }
  return missing;
}

/** The names of the PATH tools that are missing (see missingTools). */
export function missingBinaries(names: string[]): string[] {
  return missingTools(pathBinaries(names)).map((tool) => tool.name);
}

/**
 * The title a test or suite is skipped under. test/support/skip-reporter.cjs finds this mark in
 * the results and repeats it, with the install command, in the last lines of `npm test`.
 */
export function skippedTitle(title: string, missing: RequiredTool[]): string {
  return `${title} [skipped: ${missing.map((t) => t.name).join(', ')} not installed; ${installCommand(missing)}]`;
}

/** `describe` that skips when a tool is missing locally (and fails in CI). */
export function describeWithTools(tools: RequiredTool[], title: string, body: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) describe(title, body);
  else describe.skip(skippedTitle(title, missing), body);
}

/** `describe` that skips when an executable is missing locally (and fails in CI). */
export function describeWithBinaries(names: string[], title: string, body: () => void): void {
  describeWithTools(pathBinaries(names), title, body);
}

/** `it` that skips when an executable is missing locally (and fails in CI). */
export function itWithBinaries(names: string[], title: string, body: () => Promise<void>, timeoutMs?: number): void {
  const missing = missingTools(pathBinaries(names));
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
