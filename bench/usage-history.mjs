// Writes a synthetic Claude Code transcript history shaped like the real thing
// (test/fixtures/claude-code/transcripts): user prompts and large tool results, assistant messages
// written once per content block (with the same usage, or with output tokens growing as the
// message streams), subagents in side-chain files and as `progress` lines in their parent, resumed
// sessions that copy their predecessor's lines, Claude Code's `<synthetic>` rate-limit notices,
// and the odd line ccusage skips (torn writes, `null` ids, old-format lines). Deterministic for a
// seed and a `now`; the newest session is active at `now`.
//
//   node bench/usage-history.mjs <dir> [megabytes] [--days N] [--now ISO] [--seed N]
//
// Generated histories go under /tmp (or a test's temp folder), never into the repository.
import { createWriteStream, mkdirSync, utimesSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

/** Model, share of assistant messages. `claude-sonnet-4-7-preview` is not in any price list: unpriced. */
const MODELS = [
  ['claude-sonnet-4-5-20250929', 0.42],
  ['claude-haiku-4-5-20251001', 0.18],
  ['claude-opus-4-1-20250805', 0.1],
  ['claude-opus-4-6', 0.1],
  ['claude-opus-4-5-20251101', 0.08],
  ['claude-sonnet-4-20250514', 0.05],
  ['claude-3-5-haiku-20241022', 0.05],
  ['claude-sonnet-4-7-preview', 0.02],
];
const WORDS = 'the config loader reads yaml validates each key and reports every problem with its path so a user can fix them in one go while tests cover defaults overrides and environment variables'.split(' ');
const HOUR = 3600_000;

/** Deterministic PRNG (mulberry32), so every run with the same seed writes the same history. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text(rand, words) {
  const out = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return out.join(' ');
}

function hex(rand, length) {
  let out = '';
  while (out.length < length) out += Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
}

function uuid(rand) {
  const h = hex(rand, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function pickModel(rand) {
  let r = rand();
  for (const [model, share] of MODELS) {
    if ((r -= share) <= 0) return model;
  }
  return MODELS[0][0];
}

class Transcript {
  constructor(file) {
    this.file = file;
    this.out = createWriteStream(file);
    this.bytes = 0;
    this.lastAt = 0;
  }

  async line(text, at) {
    const line = `${text}\n`;
    this.bytes += Buffer.byteLength(line);
    if (at !== undefined) this.lastAt = Math.max(this.lastAt, at);
    if (!this.out.write(line)) await once(this.out, 'drain');
  }

  async close() {
    this.out.end();
    await once(this.out, 'close');
    // a transcript is last modified when its last line was written, as on a real machine
    if (this.lastAt > 0) utimesSync(this.file, new Date(this.lastAt), new Date(this.lastAt));
    return this.bytes;
  }
}

/**
 * Sessions of 40–200 turns spread over `days` days before `now` (the oldest in Claude Code 1.0's
 * format), then one in progress; returns the bytes written.
 */
export async function generateHistory(root, { targetBytes, now = Date.now(), days = 90, seed = 42 }) {
  const rand = random(seed);
  const projects = Array.from({ length: 12 }, (_, i) => `-home-dev-project-${i}`);
  for (const project of projects) mkdirSync(path.join(root, 'projects', project), { recursive: true });
  const span = days * 86400_000;
  const sessionsPlanned = Math.max(2, Math.round(targetBytes / 520_000));
  const previous = new Map();
  let written = 0;
  let session = 0;
  let clock = now - span;
  while (written < targetBytes) {
    const project = projects[session % projects.length];
    const oldFormat = clock < now - span * 0.95;
    const result = await writeSession(root, project, { rand, start: clock, turns: 40 + Math.floor(rand() * 160), oldFormat, resumeFrom: rand() < 0.06 ? previous.get(project) : undefined });
    previous.set(project, result.tail);
    written += result.bytes;
    session += 1;
    // now and then an exact hour on the clock, so blocks meet lines written at the boundary
    clock = Math.min(now - 6 * HOUR, clock + span / sessionsPlanned);
    if (rand() < 0.05) clock = Math.ceil(clock / HOUR) * HOUR;
  }
  // the session in progress: 60 turns ending about now, so an active 5-hour block exists
  const live = await writeSession(root, projects[0], { rand, start: now - 60 * 40_000, turns: 60, oldFormat: false });
  return { bytes: written + live.bytes, sessions: session + 1 };
}

async function writeSession(root, project, { rand, start, turns, oldFormat, resumeFrom }) {
  const sessionId = uuid(rand);
  const dir = path.join(root, 'projects', project);
  const transcript = new Transcript(path.join(dir, `${sessionId}.jsonl`));
  const cwd = `/home/dev/${project.replace(/^-home-dev-/, '')}`;
  const version = oldFormat ? '1.0.20' : '2.1.197';
  const tail = [];
  let at = start;
  let parent = null;
  const base = () => ({ parentUuid: parent, isSidechain: false, userType: 'external', cwd, sessionId, version, gitBranch: 'main' });
  await transcript.line(JSON.stringify({ type: 'summary', summary: text(rand, 5), leafUuid: uuid(rand) }));
  // a resumed session starts with a copy of its predecessor's last lines: same ids, same times
  if (resumeFrom) for (const [line, lineAt] of resumeFrom) await transcript.line(line, lineAt);
  let cacheRead = 0;
  for (let turn = 0; turn < turns; turn++) {
    const userUuid = uuid(rand);
    const toolResult = turn > 0 && rand() < 0.6;
    const content = toolResult
      ? [{ tool_use_id: `toolu_${hex(rand, 20)}`, type: 'tool_result', content: text(rand, 150 + Math.floor(rand() * 900)) }]
      : text(rand, 10 + Math.floor(rand() * 60));
    await transcript.line(JSON.stringify({ ...base(), type: 'user', message: { role: 'user', content }, uuid: userUuid, timestamp: new Date(at).toISOString() }), at);
    parent = userUuid;
    at += 2_000 + Math.floor(rand() * 20_000);
    if (rand() < 0.01) at = Math.ceil(at / HOUR) * HOUR;
    const message = assistantMessage(rand, cacheRead, oldFormat);
    cacheRead = Math.min(cacheRead + message.usage.cache_creation_input_tokens, 420_000);
    const lines = [];
    for (const [index, block] of message.blocks.entries()) {
      const uuidLine = uuid(rand);
      const usage = index < message.blocks.length - 1 && message.streams ? { ...message.usage, output_tokens: 1 + index } : message.usage;
      const entry = {
        ...base(),
        message: { id: message.id, type: 'message', role: 'assistant', model: message.model, content: [block], stop_reason: 'end_turn', stop_sequence: null, usage },
        ...(oldFormat ? { costUSD: message.costUsd } : { requestId: message.requestId }),
        type: 'assistant',
        uuid: uuidLine,
        timestamp: new Date(at).toISOString(),
      };
      const line = tornOrBroken(rand, JSON.stringify(entry));
      await transcript.line(line, at);
      lines.push([line, at]);
      parent = uuidLine;
      at += 200;
    }
    tail.push(...lines);
    if (!oldFormat && rand() < 0.06) at = await subagent(rand, { dir, sessionId, transcript, base, at, withFile: rand() < 0.7 });
    if (!oldFormat && rand() < 0.004) await sideQuestionReplay(rand, { transcript, base, message, at: rand() < 0.5 ? at - 200 : at + 5_000 });
    at += 5_000 + Math.floor(rand() * 40_000);
  }
  if (rand() < 0.04) {
    const resetsAt = Math.ceil(at / HOUR) * HOUR + HOUR;
    const notice = {
      ...base(),
      type: 'assistant',
      uuid: uuid(rand),
      timestamp: new Date(at).toISOString(),
      message: { id: `msg_${hex(rand, 24)}`, type: 'message', role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: `Claude AI usage limit reached|${resetsAt / 1000}` }], stop_reason: 'stop_sequence', stop_sequence: '', usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      isApiErrorMessage: true,
      requestId: `req_${hex(rand, 24)}`,
    };
    await transcript.line(JSON.stringify(notice), at);
  }
  return { bytes: await transcript.close(), tail: tail.slice(-40) };
}

function assistantMessage(rand, cacheRead, oldFormat) {
  const model = pickModel(rand);
  const cacheCreation = Math.floor(rand() * 4000);
  const oneHour = rand() < 0.2 ? Math.floor(cacheCreation * rand()) : 0;
  const usage = {
    input_tokens: 3 + Math.floor(rand() * 50),
    cache_creation_input_tokens: cacheCreation,
    cache_read_input_tokens: cacheRead,
    ...(oldFormat ? {} : { cache_creation: { ephemeral_5m_input_tokens: cacheCreation - oneHour, ephemeral_1h_input_tokens: oneHour } }),
    output_tokens: 50 + Math.floor(rand() * 2500),
    ...(oldFormat ? {} : { service_tier: 'standard' }),
    ...(model === 'claude-opus-4-6' && rand() < 0.1 ? { speed: 'fast' } : {}),
  };
  const blocks = [{ type: 'text', text: text(rand, 20 + Math.floor(rand() * 200)) }];
  if (rand() < 0.7) blocks.push({ type: 'tool_use', id: `toolu_${hex(rand, 20)}`, name: 'Read', input: { file_path: `/src/file${Math.floor(rand() * 100)}.ts` } });
  return {
    id: `msg_01${hex(rand, 22)}`,
    requestId: `req_011${hex(rand, 21)}`,
    model,
    usage,
    blocks,
    // some messages are written as they stream: earlier blocks carry the output count so far
    streams: rand() < 0.4,
    costUsd: Math.round(rand() * 1e6) / 1e7,
  };
}

/** Now and then a line ccusage skips: torn by a crash (invalid JSON) or with a `null` request id. */
function tornOrBroken(rand, line) {
  const r = rand();
  // torn after its usage began: ccusage sees the usage marker, fails to parse it, skips the line
  if (r < 0.002) return line.slice(0, line.indexOf('"usage":{') + 30);
  if (r < 0.003) return line.replace(/"requestId":"[^"]*"/, '"requestId":null');
  return line;
}

/**
 * A Task subagent: its messages go to `<session>/subagents/agent-<id>.jsonl` (side chain) and,
 * nested in `progress` lines, into the parent transcript. Without the file (older Claude Code),
 * only the progress lines hold them: ccusage's daily report counts them, its blocks do not.
 */
async function subagent(rand, { dir, sessionId, transcript, base, at, withFile }) {
  const agentId = hex(rand, 8);
  const folder = path.join(dir, sessionId, 'subagents');
  let file = null;
  if (withFile) {
    mkdirSync(folder, { recursive: true });
    file = new Transcript(path.join(folder, `agent-${agentId}.jsonl`));
  }
  const steps = 2 + Math.floor(rand() * 6);
  for (let step = 0; step < steps; step++) {
    at += 3_000 + Math.floor(rand() * 15_000);
    const message = assistantMessage(rand, Math.floor(rand() * 30_000), false);
    const entry = {
      ...base(),
      isSidechain: true,
      agentId,
      message: { id: message.id, type: 'message', role: 'assistant', model: message.model, content: [message.blocks[0]], stop_reason: 'end_turn', stop_sequence: null, usage: message.usage },
      requestId: message.requestId,
      type: 'assistant',
      uuid: uuid(rand),
      timestamp: new Date(at).toISOString(),
    };
    if (file) await file.line(JSON.stringify(entry), at);
    const progress = { ...base(), type: 'progress', data: { type: 'agent_progress', agentId, message: entry }, uuid: uuid(rand), timestamp: new Date(at).toISOString() };
    await transcript.line(JSON.stringify(progress), at);
  }
  if (file) await file.close();
  return at;
}

/** A `/btw` side question replays a parent message in a side chain under a new request id. */
async function sideQuestionReplay(rand, { transcript, base, message, at }) {
  const entry = {
    ...base(),
    isSidechain: true,
    message: { id: message.id, type: 'message', role: 'assistant', model: message.model, content: [message.blocks[0]], stop_reason: 'end_turn', stop_sequence: null, usage: message.usage },
    requestId: `req_011${hex(rand, 21)}`,
    type: 'assistant',
    uuid: uuid(rand),
    timestamp: new Date(at).toISOString(),
  };
  await transcript.line(JSON.stringify(entry), at);
}

// CLI: the benches and tests run it in its own process, so generating a history does not count
// in the measured process's memory.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { days: { type: 'string' }, now: { type: 'string' }, seed: { type: 'string' } } });
  const [dir, megabytes = '210'] = positionals;
  if (!dir) {
    process.stderr.write('usage: node bench/usage-history.mjs <dir> [megabytes] [--days N] [--now ISO] [--seed N]\n');
    process.exit(2);
  }
  const result = await generateHistory(dir, {
    targetBytes: Number(megabytes) * 1024 * 1024,
    ...(values.days ? { days: Number(values.days) } : {}),
    ...(values.now ? { now: Date.parse(values.now) } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
