import { readFileSync } from 'node:fs';
import { repoPath } from '../../support/binaries.js';
import { startService, waitFor, type Service } from '../../support/processes.js';

/** The built CLI, as Claude Code's hooks and a user run it. */
export const CLI_ENTRY = repoPath('dist', 'cli', 'main.js');

export interface HttpAnswer {
  status: number;
  text: string;
  body: any;
}

/**
 * The bridge as a black box: `claude-bridge serve --config FILE` in its own process, reached over
 * HTTP only. Its log (JSON lines) goes to `logFile`, appended across restarts.
 */
export class BridgeProcess {
  private service: Service | null = null;

  constructor(
    readonly url: string,
    private readonly configFile: string,
    private readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.service !== null;
  }

  async start(): Promise<void> {
    const before = this.logText().length;
    const service = startService('bridge', process.execPath, [CLI_ENTRY, 'serve', '--config', this.configFile], this.logFile);
    this.service = service;
    const exited = () => service.child.exitCode !== null || service.child.signalCode !== null;
    await waitFor(
      'the bridge to listen',
      async () => {
        if (exited()) throw new Error(`the bridge exited:\n${this.logText().slice(before)}`);
        return this.logText().slice(before).includes('"msg":"bridge listening"') ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, diagnostics: () => this.logText().slice(before) },
    );
  }

  async stop(): Promise<void> {
    await this.service?.stop();
    this.service = null;
  }

  logText(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  get(path: string): Promise<HttpAnswer> {
    return this.request('GET', path);
  }

  post(path: string, body?: unknown): Promise<HttpAnswer> {
    return this.request('POST', path, body);
  }

  /** Every sample of GET /prometheus. */
  async samples(): Promise<Samples> {
    const answer = await this.get('/prometheus');
    if (answer.status !== 200) throw new Error(`GET /prometheus answered ${answer.status}: ${answer.text}`);
    return parseExposition(answer.text);
  }

  private async request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const response = await fetch(this.url + path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, text, body: parsed };
  }
}

/** Samples by series, labels sorted by name: `name{a="1",b="2"}` → value. */
export class Samples {
  constructor(readonly values: Map<string, number>) {}

  /** The value of one series (0 when it is not exported: a counter never incremented). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.values.get(seriesKey(name, labels)) ?? 0;
  }

  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.values.has(seriesKey(name, labels));
  }

  /** The sum over every series of a metric. */
  sum(name: string): number {
    let total = 0;
    for (const [key, value] of this.values) if (key === name || key.startsWith(`${name}{`)) total += value;
    return total;
  }
}

export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Samples {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1]!] = label[2]!;
    values.set(seriesKey(match[1]!, labels), Number(match[3]));
  }
  return new Samples(values);
}
