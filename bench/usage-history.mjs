// Writes a synthetic Claude Code transcript history shaped like the real thing
// (fixtures/claude-code/transcripts): user prompts, tool results, assistant messages written once
// per content block with the same usage (so de-duplication matters), subagent sidechains,
// several models, and the newest session active right now.
import { createWriteStream, mkdirSync, utimesSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { randomUUID } from 'node:crypto';

const MODELS = [
  ['claude-sonnet-4-5-20250929', 0.55],
  ['claude-opus-4-1-20250805', 0.2],
  ['claude-haiku-4-5-20251001', 0.2],
  ['claude-3-5-haiku-20241022', 0.05],
];
const WORDS = 'the config loader reads yaml validates each key and reports every problem with its path so a user can fix them in one go while tests cover defaults overrides and environment variables'.split(' ');

/** Deterministic PRNG (mulberry32), so every bench run writes the same history. */
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

function pickModel(rand) {
  let r = rand();
  for (const [model, share] of MODELS) {
    if ((r -= share) <= 0) return model;
  }
  return MODELS[0][0];
}

/**
 * Sessions of 40–200 turns spread over `days` days before `now`, then one in progress;
 * returns the bytes written.
 */
export async function generateHistory(root, { targetBytes, now = Date.now(), days = 90, seed = 42 }) {
  const rand = random(seed);
  const projects = Array.from({ length: 12 }, (_, i) => `-home-dev-project-${i}`);
  for (const project of projects) mkdirSync(path.join(root, 'projects', project), { recursive: true });
  const sessionsStart = now - days * 86400_000;
  let written = 0;
  let session = 0;
  let clock = sessionsStart;
  while (written < targetBytes) {
    const turns = 40 + Math.floor(rand() * 160);
    written += await writeSession(path.join(root, 'projects', projects[session % projects.length]), { rand, start: clock, turns, project: projects[session % projects.length] });
    session += 1;
    clock = Math.min(now - 6 * 3600_000, clock + (days * 86400_000) / Math.max(1, Math.round(targetBytes / 450_000)));
  }
  // The session in progress: 60 turns ending about now, so an active 5-hour block exists.
  written += await writeSession(path.join(root, 'projects', projects[0]), { rand, start: now - 60 * 40_000, turns: 60, project: projects[0] });
  session += 1;
  return { bytes: written, sessions: session };
}

async function writeSession(dir, { rand, start, turns, project }) {
  const sessionId = randomUUID();
  const file = path.join(dir, `${sessionId}.jsonl`);
  const out = createWriteStream(file);
  const cwd = `/home/dev/${project.replace(/^-home-dev-/, '')}`;
  let bytes = 0;
  let at = start;
  let parent = null;
  const write = async (entry) => {
    const line = `${JSON.stringify(entry)}\n`;
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  const base = () => ({ parentUuid: parent, isSidechain: rand() < 0.1, userType: 'external', cwd, sessionId, version: '2.1.197', gitBranch: 'main' });
  await write({ type: 'summary', summary: text(rand, 5), leafUuid: randomUUID() });
  let cacheRead = 0;
  for (let turn = 0; turn < turns; turn++) {
    const userUuid = randomUUID();
    const toolResult = turn > 0 && rand() < 0.6;
    const content = toolResult
      ? [{ tool_use_id: `toolu_${randomUUID().slice(0, 20)}`, type: 'tool_result', content: text(rand, 150 + Math.floor(rand() * 900)) }]
      : text(rand, 10 + Math.floor(rand() * 60));
    await write({ ...base(), type: 'user', message: { role: 'user', content }, uuid: userUuid, timestamp: new Date(at).toISOString() });
    parent = userUuid;
    at += 2_000 + Math.floor(rand() * 20_000);
    const model = pickModel(rand);
    const messageId = `msg_01${randomUUID().replace(/-/g, '').slice(0, 22)}`;
    const requestId = `req_011${randomUUID().replace(/-/g, '').slice(0, 21)}`;
    const cacheCreation = Math.floor(rand() * 4000);
    const usage = {
      input_tokens: 3 + Math.floor(rand() * 50),
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: cacheRead,
      cache_creation: { ephemeral_5m_input_tokens: cacheCreation, ephemeral_1h_input_tokens: 0 },
      output_tokens: 50 + Math.floor(rand() * 2500),
      service_tier: 'standard',
    };
    cacheRead += cacheCreation;
    // One line per content block, each with the same usage: ccusage must count it once.
    const blocks = [{ type: 'text', text: text(rand, 20 + Math.floor(rand() * 200)) }];
    if (rand() < 0.7) blocks.push({ type: 'tool_use', id: `toolu_${randomUUID().slice(0, 20)}`, name: 'Read', input: { file_path: `${cwd}/src/file${turn}.ts` } });
    for (const block of blocks) {
      const uuid = randomUUID();
      await write({
        ...base(),
        message: { id: messageId, type: 'message', role: 'assistant', model, content: [block], stop_reason: 'end_turn', stop_sequence: null, usage },
        requestId,
        type: 'assistant',
        uuid,
        timestamp: new Date(at).toISOString(),
      });
      parent = uuid;
      at += 200;
    }
    at += 5_000 + Math.floor(rand() * 40_000);
  }
  out.end();
  await once(out, 'close');
  // A transcript is last modified when its last line was written, as on a real machine.
  utimesSync(file, new Date(at), new Date(at));
  return bytes;
}

// CLI: node bench/usage-history.mjs <dir> <megabytes> — the poll bench runs it in its own
// process, so generating the history does not count in the measured process's memory.
import { pathToFileURL } from 'node:url';

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, megabytes = '210'] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: node bench/usage-history.mjs <dir> [megabytes]\n');
    process.exit(2);
  }
  const result = await generateHistory(dir, { targetBytes: Number(megabytes) * 1024 * 1024 });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
