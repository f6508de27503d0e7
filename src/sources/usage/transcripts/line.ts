import { isJsonObject } from '../../../util/json.js';
import type { MessageTokens } from './pricing.js';
import { parseTranscriptTimestamp } from './timestamp.js';

/**
 * One usage entry of a transcript line, read by ccusage 20.0.24's rules. A line can hold more
 * than one: a message with advisor iterations adds one entry per advisor model.
 */
export interface UsageEntry {
  at: number;
  /** The line's `sessionId`; null: the one its file path names. */
  sessionId: string | null;
  messageId: string | null;
  requestId: string | null;
  /** null when the line names none; `<synthetic>` for Claude Code's own messages (rate limits). */
  model: string | null;
  tokens: MessageTokens;
  speed: 'standard' | 'fast' | null;
  /** A cost the line carries itself (older Claude Code wrote `costUSD`); it wins over the price list. */
  costUsd: number | null;
  sidechain: boolean;
  /** The reset time of a "usage limit reached" message, ms. */
  limitResetAt: number | null;
  /**
   * Which of ccusage's reports count it: `blocks` reads assistant lines only, `daily` also the
   * subagent messages nested in `type: "progress"` lines.
   */
  reports: 'both' | 'daily';
}

/** Why ccusage skips a line that carries `"usage":{` (counted for /health). */
export type SkipReason = 'malformed' | 'null_field' | 'schema' | 'timestamp' | 'invalid';

export type LineOutcome = { entries: UsageEntry[] } | { skip: SkipReason };

/** ccusage only looks at lines holding these bytes; the reader tests the raw buffer for them. */
export const USAGE_MARKER = '"usage":{';
export const SYNTHETIC_MODEL = '<synthetic>';
const LIMIT_MARKER = 'Claude AI usage limit reached';
/** u64 max; a JS number cannot tell values this large apart anyway. */
const MAX_U64 = 2 ** 64 - 1;

type Json = Record<string, unknown>;

/** A line already known to contain USAGE_MARKER. */
export function parseUsageLine(line: string): LineOutcome {
  if (hasUnsupportedNull(line)) return { skip: 'null_field' };
  let root: unknown;
  try {
    root = JSON.parse(line);
  } catch {
    return { skip: 'malformed' };
  }
  if (!isJsonObject(root)) return { skip: 'schema' };
  const direct = directEntry(root, line);
  if (direct !== null) return direct;
  const progress = progressEntry(root);
  return progress ?? { skip: 'schema' };
}

interface Fields {
  timestamp: string;
  message: Json;
  tokens: MessageTokens;
  speed: UsageEntry['speed'];
  model: string | null;
  messageId: string | null;
  sessionId: string | null;
  requestId: string | null;
  version: string | null;
  costUsd: number | null;
  sidechain: boolean;
}

/** A transcript line (`timestamp` and `message.usage` at the top), or null to try the progress shape. */
function directEntry(root: Json, line: string): LineOutcome | null {
  const fields = entryFields(root, root.timestamp, root.message, root.version, root.sessionId);
  if (fields === null) return null;
  const apiError = root.isApiErrorMessage;
  // ccusage's blocks report also types isApiErrorMessage; its daily report does not read it
  const reports: UsageEntry['reports'] = apiError === undefined || apiError === null || typeof apiError === 'boolean' ? 'both' : 'daily';
  return finish(fields, reports, apiError === true ? limitResetOf(line) : null, advisorsOf(line, fields.message));
}

/** A `type: "progress"` line: a subagent's message nested in `data.message`, counted by ccusage's daily report only. */
function progressEntry(root: Json): LineOutcome | null {
  const data = root.data;
  if (!isJsonObject(data) || !isJsonObject(data.message)) return null;
  const inner = data.message;
  const fields = entryFields(inner, inner.timestamp, inner.message, undefined, root.sessionId);
  // ccusage reads advisor iterations from the line's top-level message, which a progress line has not
  return fields === null ? null : finish(fields, 'daily', null, []);
}

function finish(fields: Fields, reports: UsageEntry['reports'], limitResetAt: number | null, advisors: Advisor[]): LineOutcome {
  const at = parseTranscriptTimestamp(fields.timestamp);
  if (at === null) return { skip: 'timestamp' };
  if (!validEntry(fields)) return { skip: 'invalid' };
  const base: UsageEntry = {
    at,
    sessionId: fields.sessionId,
    messageId: fields.messageId,
    requestId: fields.requestId,
    model: fields.model,
    tokens: fields.tokens,
    speed: fields.speed,
    costUsd: fields.costUsd,
    sidechain: fields.sidechain,
    limitResetAt,
    reports,
  };
  const extra = advisors.map((advisor, index): UsageEntry => ({
    ...base,
    messageId: base.messageId === null ? null : `${base.messageId}:advisor:${index}`,
    model: advisor.model,
    tokens: advisor.tokens,
    speed: advisor.speed,
    costUsd: null,
  }));
  return { entries: [base, ...extra] };
}

/** The typed fields ccusage deserializes; null when one has the wrong type (the whole line is skipped). */
function entryFields(root: Json, timestamp: unknown, message: unknown, version: unknown, sessionId: unknown): Fields | null {
  if (typeof timestamp !== 'string' || !isJsonObject(message) || !isJsonObject(message.usage)) return null;
  const usage = readUsage(message.usage);
  const model = optionalString(message.model);
  const messageId = optionalString(message.id);
  const session = optionalString(sessionId);
  const requestId = optionalString(root.requestId);
  const versionText = optionalString(version);
  const costUsd = root.costUSD;
  const sidechain = root.isSidechain;
  if (usage === null || model === undefined || messageId === undefined || session === undefined || requestId === undefined || versionText === undefined) return null;
  if (costUsd !== undefined && costUsd !== null && typeof costUsd !== 'number') return null;
  if (sidechain !== undefined && sidechain !== null && typeof sidechain !== 'boolean') return null;
  return {
    timestamp,
    message,
    ...usage,
    model,
    messageId,
    sessionId: session,
    requestId,
    version: versionText,
    costUsd: typeof costUsd === 'number' ? costUsd : null,
    sidechain: sidechain === true,
  };
}

/** ccusage's entry checks: a version that starts `N.N.N`, and no empty id, session, request or model. */
function validEntry(fields: Fields): boolean {
  if (fields.version !== null && !/^\d+\.\d+\.\d/.test(fields.version)) return false;
  return fields.sessionId !== '' && fields.requestId !== '' && fields.messageId !== '' && fields.model !== '';
}

/** undefined: present with the wrong type; null: absent (or JSON null where ccusage allows it). */
function optionalString(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : undefined;
}

function readUsage(usage: Json): { tokens: MessageTokens; speed: UsageEntry['speed'] } | null {
  const input = count(usage.input_tokens, false);
  const output = count(usage.output_tokens, false);
  const flatCacheWrite = count(usage.cache_creation_input_tokens, true);
  const cacheRead = count(usage.cache_read_input_tokens, true);
  const speed = usage.speed;
  if (input === null || output === null || flatCacheWrite === null || cacheRead === null) return null;
  if (speed !== undefined && speed !== null && speed !== 'standard' && speed !== 'fast') return null;
  const split = usage.cache_creation;
  let cacheWrite5m = flatCacheWrite;
  let cacheWrite1h = 0;
  if (split !== undefined && split !== null) {
    // with the 5m/1h split present, ccusage counts (and prices) the split, not the flat field
    if (!isJsonObject(split)) return null;
    const fiveMinutes = count(split.ephemeral_5m_input_tokens, true);
    const oneHour = count(split.ephemeral_1h_input_tokens, true);
    if (fiveMinutes === null || oneHour === null) return null;
    cacheWrite5m = fiveMinutes;
    cacheWrite1h = oneHour;
  }
  return { tokens: { input, output, cacheWrite5m, cacheWrite1h, cacheRead }, speed: speed ?? null };
}

/** An unsigned 64-bit integer as serde reads it; `optional` fields may be absent (0). */
function count(value: unknown, optional: boolean): number | null {
  if (value === undefined) return optional ? 0 : null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_U64) return null;
  return value;
}

interface Advisor {
  model: string;
  tokens: MessageTokens;
  speed: UsageEntry['speed'];
}

/** `message.usage.iterations[]` of type `advisor_message`: usage billed to another model. */
function advisorsOf(line: string, message: Json): Advisor[] {
  const iterations = (message.usage as Json).iterations;
  if (!Array.isArray(iterations) || !line.includes('"advisor_message"')) return [];
  const out: Advisor[] = [];
  for (const item of iterations) {
    // one iteration ccusage cannot read drops them all
    if (!isJsonObject(item) || typeof item.type !== 'string') return [];
    const model = optionalString(item.model);
    const read = readUsage(item);
    if (model === undefined || read === null) return [];
    if (item.type === 'advisor_message' && model !== null && model !== '') out.push({ model, ...read });
  }
  return out;
}

/** `Claude AI usage limit reached|<epoch seconds>` in a rate-limit message. */
function limitResetOf(line: string): number | null {
  const marker = line.indexOf(LIMIT_MARKER);
  if (marker < 0) return null;
  const bar = line.indexOf('|', marker);
  if (bar < 0) return null;
  const match = /^\d+/.exec(line.slice(bar + 1, bar + 21));
  const seconds = match ? Number(match[0]) : 0;
  return seconds > 0 ? seconds * 1000 : null;
}

const NULL_REJECTED = new Set(['id', 'cwd', 'model', 'speed', 'costUSD', 'version', 'sessionId', 'requestId', 'isApiErrorMessage', 'cache_read_input_tokens', 'cache_creation_input_tokens']);

/**
 * ccusage skips a line in which any of NULL_REJECTED is written as `"<field>":null`, wherever it
 * sits (a tool input's `"id":null` too), except `model` inside `message.usage.iterations`. This is
 * a byte scan of the raw line, like ccusage's, not a walk of the parsed object.
 */
export function hasUnsupportedNull(line: string): boolean {
  let from = 0;
  let iterations: { start: number; end: number } | null | undefined;
  for (;;) {
    const at = line.indexOf(':null', from);
    if (at < 0) return false;
    from = at + 5;
    let fieldEnd = at > 0 ? at - 1 : 0;
    if (line[fieldEnd] !== '"') while (fieldEnd > 0 && line[fieldEnd] !== '"') fieldEnd--;
    if (line[fieldEnd] !== '"') continue;
    let fieldStart = fieldEnd > 0 ? fieldEnd - 1 : 0;
    while (fieldStart > 0 && line[fieldStart] !== '"') fieldStart--;
    if (line[fieldStart] !== '"') continue;
    const field = line.slice(fieldStart + 1, fieldEnd);
    if (!NULL_REJECTED.has(field)) continue;
    if (field === 'model') {
      iterations ??= iterationsSpan(line);
      if (iterations && at >= iterations.start && at < iterations.end) continue;
    }
    return true;
  }
}

/** The body of the `iterations` array that is a direct member of a `"usage"` object. */
function iterationsSpan(line: string): { start: number; end: number } | null {
  let from = 0;
  for (;;) {
    const found = line.indexOf('"usage"', from);
    if (found < 0) return null;
    from = found + 7;
    const colon = expectAfterSpace(line, from, ':');
    const body = colon === null ? null : expectAfterSpace(line, colon, '{');
    if (body === null) continue;
    const span = iterationsInObject(line, body);
    if (span) return span;
  }
}

function iterationsInObject(line: string, start: number): { start: number; end: number } | null {
  let index = skipSpace(line, start);
  for (;;) {
    if (line[index] !== '"') return null;
    const keyEnd = stringEnd(line, index + 1);
    if (keyEnd === null) return null;
    const key = line.slice(index + 1, keyEnd);
    const colon = expectAfterSpace(line, keyEnd + 1, ':');
    if (colon === null) return null;
    const value = skipSpace(line, colon);
    const first = line[value];
    let valueEnd: number | null;
    if (first === '[' && key === 'iterations') {
      const end = containerEnd(line, value + 1);
      return end === null ? null : { start: value + 1, end };
    } else if (first === '[' || first === '{') {
      valueEnd = containerEnd(line, value + 1);
    } else if (first === '"') {
      valueEnd = stringEnd(line, value + 1);
    } else if (first === undefined) {
      return null;
    } else {
      let end = value;
      while (end < line.length && line[end] !== ',' && line[end] !== '}') end++;
      valueEnd = end - 1;
    }
    if (valueEnd === null) return null;
    index = skipSpace(line, valueEnd + 1);
    if (line[index] !== ',') return null;
    index = skipSpace(line, index + 1);
  }
}

function containerEnd(line: string, start: number): number | null {
  let depth = 1;
  for (let index = start; index < line.length; index++) {
    const char = line[index];
    if (char === '"') {
      const end = stringEnd(line, index + 1);
      if (end === null) return null;
      index = end;
    } else if (char === '[' || char === '{') {
      depth++;
    } else if (char === ']' || char === '}') {
      depth--;
      if (depth === 0) return index;
    }
  }
  return null;
}

function stringEnd(line: string, start: number): number | null {
  for (let index = start; index < line.length; index++) {
    const char = line[index];
    if (char === '\\') index++;
    else if (char === '"') return index;
  }
  return null;
}

function skipSpace(line: string, index: number): number {
  while (index < line.length && ' \t\n\r'.includes(line[index]!)) index++;
  return index;
}

function expectAfterSpace(line: string, start: number, expected: string): number | null {
  const index = skipSpace(line, start);
  return line[index] === expected ? index + 1 : null;
}
