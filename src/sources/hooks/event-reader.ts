import { none } from 'stream-chain/defs.js';
import { jsonParser, type Token } from 'stream-json/core/parser.js';

/** The fields of a HookEvent the bridge counts from (see event.ts); everything else is skipped unread. */
const EVENT_FIELDS = new Set(['id', 'source_app', 'session_id', 'hook_event_type', 'timestamp']);
const PAYLOAD_FIELDS = new Set(['tool_name', 'tool_use_id', 'duration_ms', 'notification_type', 'trigger', 'error', 'prompt_id']);
/** Longer kept strings (a session id, a tool name) are cut: nothing legitimate comes close. */
const MAX_KEPT_STRING = 4096;

type Role = 'root-array' | 'frame' | 'events' | 'event' | 'payload' | 'skip';
type Container = Record<string, unknown> | unknown[];

interface Level {
  role: Role;
  /** What is being built at this level (null while skipping). */
  value: Container | null;
  key: string | null;
}

export interface ReadSummary {
  /** What the document was: an array of events, a `{type, data}` frame, or anything else. */
  root: 'array' | 'frame' | 'other';
  /** For a frame: its `type` when it was a string. */
  frameType?: string;
  /** For a frame: what `data` held. */
  data?: 'array' | 'object' | 'other';
  /** A short description of a `data` (or root) that was neither, for the malformed-frame log. */
  preview?: string;
  /** How many events were handed on. */
  events: number;
}

/**
 * Reads the hooks server's JSON as it streams in, with a well-kept streaming parser (stream-json),
 * and hands on each event reduced to the fields the bridge counts from. A `chat` transcript or a
 * large `tool_response` is tokenised and dropped, never held whole. Accepts an answer of
 * `GET /events/recent` (an array of events) and a WebSocket frame (`{"type":…,"data":…}`, where
 * `data` is an array of events or one event). Elements that are not objects are handed on as they
 * are, so the caller reports them as malformed like any other.
 */
export class HookEventReader {
  private readonly parse = jsonParser({
    packKeys: true,
    streamKeys: false,
    packStrings: false,
    streamStrings: true,
    packNumbers: true,
    streamNumbers: false,
  });
  private readonly decoder = new TextDecoder('utf-8');
  private readonly stack: Level[] = [];
  private pendingKey: string | null = null;
  private text: string | null = null;
  private summary: ReadSummary = { root: 'other', events: 0 };
  private rootSeen = false;

  constructor(private readonly onEvent: (raw: unknown) => void) {}

  /** Feeds the next piece of the document; throws on malformed JSON. */
  write(chunk: Uint8Array | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (text.length > 0) this.consume(this.parse(text));
  }

  /** The document is complete; throws when it is not well-formed. */
  end(): ReadSummary {
    const rest = this.decoder.decode();
    if (rest.length > 0) this.consume(this.parse(rest));
    // stream-chain's convention: a flushable called with `none` flushes (its type only names strings).
    this.consume((this.parse as (value: unknown) => unknown)(none));
    if (!this.rootSeen || this.stack.length > 0) throw new Error('the JSON ended early');
    return this.summary;
  }

  private consume(output: unknown): void {
    if (output === none || typeof output !== 'object' || output === null) return;
    const tokens = (output as { values?: Token[] }).values;
    if (tokens) for (const token of tokens) this.token(token);
    else this.token(output as Token);
  }

  private token(token: Token): void {
    switch (token.name) {
      case 'startObject':
        this.open({});
        break;
      case 'startArray':
        this.open([]);
        break;
      case 'endObject':
      case 'endArray':
        this.close();
        break;
      case 'keyValue':
        this.pendingKey = token.value;
        break;
      case 'startString':
        this.text = this.keeps() ? '' : null;
        break;
      case 'stringChunk':
        if (this.text !== null && this.text.length < MAX_KEPT_STRING) this.text += token.value.slice(0, MAX_KEPT_STRING - this.text.length);
        break;
      case 'endString':
        this.scalar(this.text ?? '');
        this.text = null;
        break;
      case 'numberValue':
        this.scalar(Number(token.value));
        break;
      case 'nullValue':
      case 'trueValue':
      case 'falseValue':
        this.scalar(token.value);
        break;
      default:
        break;
    }
  }

  /** Where a value that starts now goes: its role, given its parent and key. */
  private roleOfChild(isObject: boolean): Role {
    const parent = this.stack[this.stack.length - 1];
    if (!parent) return isObject ? 'frame' : 'root-array';
    const key = this.pendingKey;
    switch (parent.role) {
      case 'root-array':
      case 'events':
        return isObject ? 'event' : 'skip';
      case 'frame':
        if (key !== 'data') return 'skip';
        return isObject ? 'event' : 'events';
      case 'event':
        return key === 'payload' && isObject ? 'payload' : 'skip';
      default:
        return 'skip';
    }
  }

  private open(container: Container): void {
    const isObject = !Array.isArray(container);
    const role = this.roleOfChild(isObject);
    const parent = this.stack[this.stack.length - 1];
    if (!parent) {
      this.rootSeen = true;
      this.summary.root = isObject ? 'frame' : 'array';
    } else if (parent.role === 'frame' && this.pendingKey === 'data') {
      this.summary.data = isObject ? 'object' : 'array';
    } else if (role === 'skip') {
      this.noteSkippedContainer(parent, isObject);
    }
    this.stack.push({ role, value: role === 'skip' ? null : container, key: this.pendingKey });
    this.pendingKey = null;
  }

  private close(): void {
    const level = this.stack.pop();
    if (!level) return;
    const parent = this.stack[this.stack.length - 1];
    this.pendingKey = null;
    if (level.role === 'event') {
      this.summary.events += 1;
      this.onEvent(level.value);
    } else if (level.role === 'payload' && parent?.value && !Array.isArray(parent.value)) {
      parent.value.payload = level.value;
    }
  }

  /** A container in a place where the bridge wants a scalar (or an event) still counts as a value. */
  private noteSkippedContainer(parent: Level, isObject: boolean): void {
    const key = this.pendingKey;
    if (parent.role === 'root-array' || parent.role === 'events') {
      this.summary.events += 1;
      this.onEvent([]);
    } else if (parent.role === 'event' && key !== null && (EVENT_FIELDS.has(key) || key === 'payload') && parent.value && !Array.isArray(parent.value)) {
      parent.value[key] = isObject ? {} : [];
    }
  }

  /** Whether the string that starts now is kept (its chunks are otherwise dropped as they come). */
  private keeps(): boolean {
    const parent = this.stack[this.stack.length - 1];
    if (!parent) return true;
    const key = this.pendingKey;
    switch (parent.role) {
      case 'root-array':
      case 'events':
        return true;
      case 'frame':
        return key === 'type' || key === 'data';
      case 'event':
        return key !== null && (EVENT_FIELDS.has(key) || key === 'payload');
      case 'payload':
        return key !== null && PAYLOAD_FIELDS.has(key);
      default:
        return false;
    }
  }

  private scalar(value: unknown): void {
    const parent = this.stack[this.stack.length - 1];
    const key = this.pendingKey;
    this.pendingKey = null;
    if (!parent) {
      this.rootSeen = true;
      this.summary.preview = preview(value);
      return;
    }
    switch (parent.role) {
      case 'root-array':
      case 'events':
        this.summary.events += 1;
        this.onEvent(value);
        break;
      case 'frame':
        if (key === 'type' && typeof value === 'string') this.summary.frameType = value;
        if (key === 'data') {
          this.summary.data = 'other';
          this.summary.preview = preview(value);
        }
        break;
      case 'event':
        if (key !== null && (EVENT_FIELDS.has(key) || key === 'payload')) (parent.value as Record<string, unknown>)[key] = value;
        break;
      case 'payload':
        if (key !== null && PAYLOAD_FIELDS.has(key)) (parent.value as Record<string, unknown>)[key] = value;
        break;
      default:
        break;
    }
  }
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Reads a whole document held in memory (a WebSocket frame) the same way. */
export function readHookJson(text: string, onEvent: (raw: unknown) => void): ReadSummary {
  const reader = new HookEventReader(onEvent);
  reader.write(text);
  return reader.end();
}
