import { formatOffline, formatStatusline } from '../sources/statusline/format.js';
import type { StatuslineView } from '../sources/statusline/view.js';
import type * as Https from 'node:https';
import type * as Net from 'node:net';
import type { CliIO, Command } from './command.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 300;
/** Claude Code writes the whole input and closes stdin; this only guards against a stdin left open. */
const STDIN_DEADLINE_MS = 1000;
const STDIN_MAX_BYTES = 1024 * 1024;
/** The bridge's answer is a few hundred bytes; anything far larger is not its answer. */
const ANSWER_MAX_BYTES = 1024 * 1024;

/**
 * This command runs on every status line update, so it loads as little as it can: a plain
 * socket rather than fetch or node:http (whose clients cost more to load than the rest of the
 * command), no schema library (the input is read as plain JSON; every field is checked where it
 * is used).
 */
type RawInput = Record<string, unknown>;
interface Builtins {
  'node:net': typeof Net;
  'node:https': typeof Https;
}

/**
 * `claude-bridge statusline`: Claude Code's status line command. Whatever happens (bridge down,
 * slow, answering an error, garbage on stdin) it prints one line and exits 0: the status line
 * must never hang or show an error.
 */
export const statuslineCommand: Command = {
  name: 'statusline',
  usage: `claude-bridge statusline [--url URL] [--timeout-ms N]

  --url URL         the bridge (default $CLAUDE_BRIDGE_URL or ${DEFAULT_URL})
  --timeout-ms N    how long to wait for the bridge (default ${DEFAULT_TIMEOUT_MS})

Reads Claude Code's status line JSON on stdin. Sends CLAUDE_BRIDGE_AUTH_TOKEN as a bearer token
when set. Settings: "statusLine": {"type": "command", "command": "claude-bridge statusline"}.`,
  options: {
    url: { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
  async run(values, io) {
    const input = parseInput(await readStdin(io.stdin));
    const view = await askBridge(bridgeUrl(values, io), timeoutOf(values), input, io.env.CLAUDE_BRIDGE_AUTH_TOKEN);
    io.stdout(`${lineFor(view, input)}\n`);
    return 0;
  },
};

/**
 * The status line as Claude Code runs it (`claude-bridge statusline [--url U] [--timeout-ms N]`),
 * without loading the generic argument parser and IO helpers: null when the arguments are anything
 * else, for the generic path to handle (and to word the usage error) as for every command.
 */
export async function runStatusline(argv: string[]): Promise<number | null> {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (name !== '--url' && name !== '--timeout-ms') return null;
    const value = inline ?? argv[++i];
    if (value === undefined) return null;
    values[name.slice(2)] = value;
  }
  const io: CliIO = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, cwd: '', stdin: process.stdin };
  return statuslineCommand.run(values, io);
}

function lineFor(view: StatuslineView | null, input: RawInput | null): string {
  try {
    if (view) return formatStatusline(view);
  } catch {
    // an answer of an unexpected shape (another version of the bridge): say what stdin says
  }
  return formatOffline(input);
}

function bridgeUrl(values: Record<string, string | boolean | undefined>, io: CliIO): string {
  const url = typeof values.url === 'string' ? values.url : (io.env.CLAUDE_BRIDGE_URL ?? DEFAULT_URL);
  return url.replace(/\/+$/, '');
}

function timeoutOf(values: Record<string, string | boolean | undefined>): number {
  const n = Number(values['timeout-ms']);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_TIMEOUT_MS;
}

function parseInput(text: string): RawInput | null {
  try {
    const raw = JSON.parse(text) as unknown;
    return raw === null || typeof raw !== 'object' || Array.isArray(raw) ? null : (raw as RawInput);
  } catch {
    return null;
  }
}

/** POSTs the input as received (or GETs the view when there is no usable input); null on any failure. */
async function askBridge(url: string, timeoutMs: number, input: RawInput | null, token: string | undefined): Promise<StatuslineView | null> {
  try {
    const target = new URL(`${url}/statusline`);
    const body = input ? JSON.stringify(input) : null;
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== null ? { 'content-type': 'application/json' } : {}),
    };
    const text = await request(target, body !== null ? 'POST' : 'GET', headers, body, timeoutMs);
    if (text === null) return null;
    const view = JSON.parse(text) as StatuslineView;
    return typeof view?.recovery_state === 'string' ? view : null;
  } catch {
    return null;
  }
}

/**
 * One HTTP/1.1 request, `Connection: close`: the body of a 2xx answer, or null. Over plain
 * node:net (already loaded to read stdin from a pipe) when the bridge is on http://, node:https
 * for an https:// URL.
 */
async function request(target: URL, method: string, headers: Record<string, string>, body: string | null, timeoutMs: number): Promise<string | null> {
  if (target.protocol === 'https:') return httpsRequest(target, method, headers, body, timeoutMs);
  if (target.protocol !== 'http:') return null;
  const net = await builtin('node:net');
  const payload = body === null ? Buffer.alloc(0) : Buffer.from(body);
  const head = [
    `${method} ${target.pathname}${target.search} HTTP/1.1`,
    `host: ${target.host}`,
    'connection: close',
    `content-length: ${payload.length}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80) });
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (answer: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.once('connect', () => socket.write(Buffer.concat([Buffer.from(head), payload])));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > ANSWER_MAX_BYTES) finish(null);
      else chunks.push(chunk);
    });
    socket.once('error', () => finish(null));
    socket.once('end', () => finish(parseResponse(Buffer.concat(chunks))));
  });
}

/** The body of a complete HTTP/1.1 response with a 2xx status (plain or chunked), else null. */
function parseResponse(raw: Buffer): string | null {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return null;
  const [status = '', ...lines] = raw.toString('latin1', 0, split).split('\r\n');
  const code = Number(/^HTTP\/1\.[01] (\d{3})/.exec(status)?.[1]);
  if (!(code >= 200 && code < 300)) return null;
  const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim().toLowerCase();
  let content = raw.subarray(split + 4);
  if (header('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const lineEnd = content.indexOf('\r\n', at);
      if (lineEnd < 0) return null;
      const length = parseInt(content.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(length)) return null;
      if (length === 0) break;
      parts.push(content.subarray(lineEnd + 2, lineEnd + 2 + length));
      at = lineEnd + 2 + length + 2;
    }
    content = Buffer.concat(parts);
  } else {
    const length = Number(header('content-length'));
    if (Number.isInteger(length)) {
      if (content.length < length) return null;
      content = content.subarray(0, length);
    }
  }
  return content.toString('utf8');
}

async function httpsRequest(target: URL, method: string, headers: Record<string, string>, body: string | null, timeoutMs: number): Promise<string | null> {
  const https = await builtin('node:https');
  return new Promise((resolve) => {
    const request = https.request(target, { method, headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => resolve(response.statusCode && response.statusCode < 300 && response.statusCode >= 200 ? Buffer.concat(chunks).toString('utf8') : null));
      response.once('error', () => resolve(null));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(null));
    request.end(body ?? undefined);
  });
}

/**
 * A Node built-in through process.getBuiltinModule (Node ≥ 20.16) where there is one: from the
 * CommonJS bundle of this command (dist/cli/claude-bridge.cjs) an `import()` would start Node's
 * ES module loader, which the bundle exists to avoid.
 */
async function builtin<Id extends keyof Builtins>(id: Id): Promise<Builtins[Id]> {
  const loaded = process.getBuiltinModule?.(id) as Builtins[Id] | undefined;
  return loaded ?? ((await import(id)) as Builtins[Id]);
}

/** All of stdin up to a size and a deadline; never waits on a terminal. */
async function readStdin(stdin: NodeJS.ReadableStream | undefined): Promise<string> {
  if (!stdin || (stdin as { isTTY?: boolean }).isTTY) return '';
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.off('error', finish);
      (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onData = (chunk: Buffer | string) => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      size += buffer.length;
      if (size > STDIN_MAX_BYTES) finish();
    };
    const timer = setTimeout(finish, STDIN_DEADLINE_MS);
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.once('error', finish);
  });
}
