import { formatOffline, formatStatusline } from '../sources/statusline/format.js';
import { statuslineInputSchema, type StatuslineInput } from '../sources/statusline/input.js';
import type { StatuslineView } from '../sources/statusline/view.js';
import type { CliIO, Command } from './command.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 300;
/** Claude Code writes the whole input and closes stdin; this only guards against a stdin left open. */
const STDIN_DEADLINE_MS = 1000;
const STDIN_MAX_BYTES = 1024 * 1024;

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
    const view = await askBridge(bridgeUrl(values, io), timeoutOf(values), input?.raw ?? null, io.env.CLAUDE_BRIDGE_AUTH_TOKEN);
    io.stdout(`${lineFor(view, input?.parsed ?? null)}\n`);
    return 0;
  },
};

function lineFor(view: StatuslineView | null, input: StatuslineInput | null): string {
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

function parseInput(text: string): { raw: object; parsed: StatuslineInput } | null {
  try {
    const raw = JSON.parse(text) as unknown;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
    const parsed = statuslineInputSchema.safeParse(raw);
    return parsed.success ? { raw, parsed: parsed.data } : null;
  } catch {
    return null;
  }
}

/** POSTs the input as received (or GETs the view when there is no usable input); null on any failure. */
async function askBridge(url: string, timeoutMs: number, input: object | null, token: string | undefined): Promise<StatuslineView | null> {
  try {
    const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const init: RequestInit = input
      ? { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(input) }
      : { method: 'GET', headers };
    const response = await fetch(`${url}/statusline`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return null;
    const view = (await response.json()) as StatuslineView;
    return typeof view?.recovery_state === 'string' ? view : null;
  } catch {
    return null;
  }
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
