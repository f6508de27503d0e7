import { Tokenizer, TokenType, type ParsedTokenInfo } from '@streamparser/json';

/** The fields of a HookEvent the bridge counts from (see event.ts); everything else is skipped unread. */
const EVENT_FIELDS = new Set(['id', 'source_app', 'session_id', 'hook_event_type', 'timestamp']);
const PAYLOAD_FIELDS = new Set(['tool_name', 'tool_use_id', 'duration_ms', 'notification_type', 'trigger', 'error', 'prompt_id']);
/** Longer kept strings (a session id, a tool name) are cut: nothing legitimate comes close. */
const MAX_KEPT_STRING = 4096;

/** The tokenizer's buffer for the string being read (a longer one continues as a JS string). */
const STRING_BUFFER_BYTES = 64 * 1024;

type Role = 'root-array' | 'frame' | 'events' | 'event' | 'payload' | 'skip';
type Container = Record<string, unknown> | unknown[];

interface Level {
  role: Role;
  /** What is being built at this level (null while skipping). */
  value: Container | null;
  isObject: boolean;
  /** In an object: whether the next string is a key. */
  expectsKey: boolean;
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
 * Reads the hooks server's JSON as it streams in, with a well-kept streaming tokenizer
 * (@streamparser/json), and hands on each event reduced to the fields the bridge counts from. A
 * `chat` transcript or a large `tool_response` goes by token by token and is dropped, never held
 * whole. Accepts an answer of `GET /events/recent` (an array of events) and a WebSocket frame
 * (`{"type":…,"data":…}`, where `data` is an array of events or one event). Elements that are
 * not objects are handed on as they are, so the caller reports them as malformed like any other.
 */
export class HookEventReader {
  private readonly tokenizer = new Tokenizer({ stringBufferSize: STRING_BUFFER_BYTES });
  private readonly stack: Level[] = [];
  private pendingKey: string | null = null;
  private summary: ReadSummary = { root: 'other', events: 0 };
  private rootSeen = false;
  private ended = false;
  private failure: Error | null = null;

  constructor(private readonly onEvent: (raw: unknown) => void) {
    this.tokenizer.onToken = (token) => this.token(token);
    this.tokenizer.onError = (error) => {
      this.failure ??= error;
    };
    this.tokenizer.onEnd = () => {
      this.ended = true;
    };
  }

  /** Feeds the next piece of the document (bytes are UTF-8); throws on malformed JSON. */
  write(chunk: Uint8Array | string): void {
    this.throwIfFailed();
    if (this.ended) throw new Error('data after the end of the JSON document');
    this.tokenizer.write(chunk);
    this.throwIfFailed();
  }

  /** The document is complete; throws when it is not well-formed. */
  end(): ReadSummary {
    this.throwIfFailed();
    if (!this.ended) this.tokenizer.end();
    this.throwIfFailed();
    if (!this.rootSeen || this.stack.length > 0) throw new Error('the JSON ended early');
    return this.summary;
  }

  /** The tokenizer reports errors through a callback (and is unusable after one). */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private token({ token, value }: ParsedTokenInfo): void {
    switch (token) {
      case TokenType.LEFT_BRACE:
        this.open({});
        break;
      case TokenType.LEFT_BRACKET:
        this.open([]);
        break;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        this.close();
        break;
      case TokenType.COMMA: {
        const level = this.stack[this.stack.length - 1];
        if (level?.isObject) level.expectsKey = true;
        break;
      }
      case TokenType.COLON:
        break;
      case TokenType.STRING: {
        const level = this.stack[this.stack.length - 1];
        if (level?.expectsKey) {
          level.expectsKey = false;
          this.pendingKey = value as string;
        } else {
          this.scalar(this.keeps() ? detach((value as string).slice(0, MAX_KEPT_STRING)) : '');
        }
        break;
      }
      case TokenType.NUMBER:
      case TokenType.TRUE:
      case TokenType.FALSE:
      case TokenType.NULL:
        this.scalar(value);
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
    this.stack.push({ role, value: role === 'skip' ? null : container, isObject, expectsKey: isObject });
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

  /** Whether the string value that comes now is kept (it is otherwise dropped at once). */
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

/** A copy of a kept string that shares no memory with the text it was read from. */
function detach(text: string): string {
  return (' ' + text).slice(1);
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
