import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../src/util/clock.js';

/**
 * A stand-in for the Anthropic Messages API on loopback, enough for Claude Code to run a session:
 * `POST /v1/messages` answered as server-sent events when `stream` is set (the main turns), as
 * one JSON message otherwise, or with a 429 rate-limit error. Every request is recorded with the
 * session it belongs to (Claude Code's `x-claude-code-session-id` header) and the instants it
 * arrived and was answered, read from the injected clock.
 */

export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

/** How the next sessions' requests are answered. */
export type Scenario =
  /** The first turn asks for these tool calls (in one message); the turn after their results ends with text. */
  | { kind: 'tools'; calls: ToolCall[] }
  /** Every request is refused with 429 rate_limit_error. */
  | { kind: 'rate_limited' };

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface ContentBlock {
  type: string;
  text?: string;
  tool_use_id?: string;
  content?: string | ContentBlock[];
  is_error?: boolean;
}

export interface MessagesRequestBody {
  model: string;
  stream?: boolean;
  messages: { role: string; content: string | ContentBlock[] }[];
}

export interface RecordedRequest {
  sessionId: string | null;
  receivedAt: number;
  /** When the last byte of the answer was written. */
  answeredAt: number;
  status: number;
  stream: boolean;
  body: MessagesRequestBody;
  /** The assistant message answered (status 200): its id, its request id and the usage reported. */
  message?: { id: string; requestId: string; model: string; usage: Usage };
}

export const DONE_TEXT = 'All done.';

export class MessagesApi {
  readonly requests: RecordedRequest[] = [];
  /** Paths other than POST /v1/messages that Claude Code asked for (answered 404). */
  readonly unknown: string[] = [];
  scenario: Scenario = { kind: 'tools', calls: [] };
  /** Called when a request arrives, before it is answered (e.g. to change the bridge's state mid-turn). */
  onRequest: ((request: { sessionId: string | null; hasToolResults: boolean }) => Promise<void>) | null = null;
  private server: Server | null = null;
  private counter = 0;
  private port = 0;

  constructor(private readonly clock: Clock) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(error) } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  forSession(sessionId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.sessionId === sessionId);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = this.clock.now();
    const text = await readBody(req);
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/messages') {
      this.unknown.push(`${req.method} ${req.url}`);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no ${req.method} ${path} here` } }));
      return;
    }
    const body = JSON.parse(text) as MessagesRequestBody;
    const header = req.headers['x-claude-code-session-id'];
    const sessionId = typeof header === 'string' ? header : null;
    const hasToolResults = toolResults(body).length > 0;
    await this.onRequest?.({ sessionId, hasToolResults });
    const record: RecordedRequest = { sessionId, receivedAt, answeredAt: receivedAt, status: 200, stream: body.stream === true, body };
    this.requests.push(record);

    if (this.scenario.kind === 'rate_limited') {
      record.status = 429;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0', 'request-id': `req_standin_${++this.counter}` });
      res.end(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } }));
      record.answeredAt = this.clock.now();
      return;
    }
    const n = ++this.counter;
    const message = { id: `msg_standin_${n}`, requestId: `req_standin_${n}`, model: body.model, usage: usageFor(n) };
    record.message = message;
    if (record.stream) this.stream(res, message, hasToolResults ? [] : this.scenario.calls, n);
    else {
      // a side request (not part of the conversation): a short text answer
      const content = [{ type: 'text', text: DONE_TEXT }];
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': message.requestId });
      const usage = { ...message.usage, ...cacheCreation(message.usage) };
      res.end(JSON.stringify({ id: message.id, type: 'message', role: 'assistant', model: message.model, content, stop_reason: 'end_turn', stop_sequence: null, usage }));
    }
    record.answeredAt = this.clock.now();
  }

  private stream(res: ServerResponse, message: NonNullable<RecordedRequest['message']>, calls: ToolCall[], n: number): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': message.requestId });
    const send = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    const { output_tokens, ...startUsage } = message.usage;
    send('message_start', {
      message: { id: message.id, type: 'message', role: 'assistant', model: message.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...startUsage, ...cacheCreation(message.usage), output_tokens: 1 } },
    });
    if (calls.length === 0) {
      send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: DONE_TEXT } });
      send('content_block_stop', { index: 0 });
    }
    calls.forEach((call, index) => {
      send('content_block_start', { index, content_block: { type: 'tool_use', id: `toolu_standin_${n}_${index}`, name: call.name, input: {} } });
      send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(call.input) } });
      send('content_block_stop', { index });
    });
    send('message_delta', { delta: { stop_reason: calls.length > 0 ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens } });
    send('message_stop', {});
    res.end();
  }
}

/** The API's split of cache writes by lifetime, which it sends beside the total (all 5-minute here). */
function cacheCreation(usage: Usage): { cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } } {
  return { cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 } };
}

/** Different figures for every message, so a sum proves which messages were counted. */
function usageFor(n: number): Usage {
  return { input_tokens: 1000 + 17 * n, output_tokens: 40 + 3 * n, cache_creation_input_tokens: 200 + n, cache_read_input_tokens: 500 + 11 * n };
}

/**
 * The tool results a request carries, with their text. The scenarios ask for tools once per
 * session, so these are the results of that one round. (They are not always in the last message:
 * Claude Code 2.1.332 appends hook context after them as a `system` message.)
 */
export function toolResults(body: MessagesRequestBody): { toolUseId: string; text: string; isError: boolean }[] {
  return body.messages
    .flatMap((message) => (Array.isArray(message.content) ? message.content : []))
    .filter((block) => block.type === 'tool_result')
    .map((block) => ({ toolUseId: block.tool_use_id ?? '', text: blockText(block.content), isError: block.is_error === true }));
}

function blockText(content: ContentBlock['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((block) => block.text ?? '').join('\n');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
