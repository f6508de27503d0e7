import fc from 'fast-check';
import { checkProperty, targetTimeoutMs } from './support/settings.js';
import { jsonDepth, startFuzzBridge, type Answer, type FuzzBridge, type Observed, type Verdict } from './support/http-harness.js';
import { FUZZ_NOW, HTTP_BODY_TARGETS, type HttpBodyTarget, type HttpCase } from './targets/http-bodies.js';

/** Deeper than this the bridge refuses a body (src/http/app.ts). */
const MAX_JSON_DEPTH = 64;
const LIMIT_BYTES = { '1mb': 1 << 20, '8mb': 8 << 20, '32mb': 32 << 20 } as const;
/** The Content-Types whose bodies the JSON parser reads as UTF-8 JSON. */
const PLAIN_JSON = /^application\/json(; ?charset=utf-8)?$/i;
/** What the request guard lets through as JSON (src/http/request-guard.ts); the rest is a form or text a web page could send. */
const JSON_LIKE = /^application\/([\w.+-]+\+)?json\b/i;

/** Bodies posted per run; the four read endpoints are checked after each run. */
const BODIES_PER_RUN = 10;

type Expected = Verdict | 415;

/**
 * Many cases over one real bridge. Each run posts a few bodies, checking the answer and the state
 * (read in-process) after each, then reads /health, /metrics, /prometheus and /recovery/status
 * over HTTP: all must answer 200, with the state within its bounds. State accumulates from run to
 * run (that is how the bounds are tested); only a held hook moves the ManualClock.
 */
describe('fuzzing every HTTP body the bridge accepts', () => {
  let bridge: FuzzBridge;
  let last: Observed;
  beforeAll(async () => {
    bridge = await startFuzzBridge(FUZZ_NOW);
    last = await bridge.observe();
  });
  afterAll(async () => bridge?.stop());

  for (const target of HTTP_BODY_TARGETS) {
    it(
      `${target.name}: no 5xx, bad input gets a 4xx JSON error and changes nothing, valid input counts once, the read endpoints answer and state stays bounded`,
      async () => {
        const runs = fc.array(target.cases, { minLength: BODIES_PER_RUN, maxLength: BODIES_PER_RUN });
        const property = async (cases: HttpCase[]) => {
          for (const [i, c] of cases.entries()) {
            const expected = expectation(target, c, bridge.clock.now());
            const answer = await bridge.send('POST', c.path, c.body);
            const before = last;
            last = await bridge.observe();
            try {
              checkAnswer(target, c, expected, answer, before, last);
            } catch (error) {
              const body = c.body === null ? 'no body' : `${c.body.contentType ?? 'no Content-Type'}${c.body.contentEncoding ? `, ${c.body.contentEncoding}` : ''}: ${c.body.text.slice(0, 500)}`;
              throw new Error(`request ${i + 1} of the run, POST ${c.path} (${body}): ${(error as Error).message}`, { cause: error });
            }
          }
          await bridge.checkReadEndpoints();
        };
        await checkProperty(target.name, runs, property, BODIES_PER_RUN);
      },
      targetTimeoutMs(),
    );
  }
});

/** What the body must get, where that can be told from the request alone. */
function expectation(target: HttpBodyTarget, c: HttpCase, now: number): Expected {
  const judge = (body: unknown): Verdict => target.verdict?.(c.path, body, now) ?? 'either';
  if (c.body === null) return judge(undefined);
  const { text, contentType, contentEncoding } = c.body;
  if (text !== '' && !(contentType !== null && JSON_LIKE.test(contentType) && !/^(text\/plain|multipart|application\/x-www)/i.test(contentType))) return 415;
  if (target.bodyLimit === false) return judge(undefined);
  if (contentEncoding !== undefined || contentType === null || !PLAIN_JSON.test(contentType)) return 'either';
  if (Buffer.byteLength(text) > LIMIT_BYTES[target.bodyLimit]) return 'refuse'; // 413, or 404 first for an unknown path
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'either'; // the parser may still take it (a byte-order mark); usually a 400
  }
  if (jsonDepth(parsed) > MAX_JSON_DEPTH) return 'refuse';
  return judge(parsed);
}

function checkAnswer(target: HttpBodyTarget, c: HttpCase, expected: Expected, answer: Answer, before: Observed, after: Observed): void {
  const said = `${answer.status} ${answer.text.slice(0, 300)}`;
  if (answer.status >= 500) throw new Error(`answered ${said}`);
  const accepted = answer.status >= 200 && answer.status < 300;
  if (!accepted && !(answer.status >= 400 && answer.status < 500)) throw new Error(`answered neither 2xx nor 4xx: ${said}`);
  if (answer.json === undefined || !/^application\/json/.test(answer.contentType)) throw new Error(`the answer is not JSON: ${said}`);
  if (!accepted && !(typeof answer.json.error === 'string' && answer.json.error.length > 0)) throw new Error(`a ${answer.status} without an error message: ${said}`);
  if (expected === 'accept' && !accepted) throw new Error(`a valid body was refused: ${said}`);
  if (expected === 'refuse' && accepted) throw new Error(`an invalid body was accepted: ${said}`);
  if (typeof expected === 'number' && answer.status !== expected) throw new Error(`expected ${expected}, got ${said}`);

  for (const [i, counter] of (target.counters ?? []).entries()) {
    const added = counter(after) - counter(before);
    if (added !== (accepted ? 1 : 0)) throw new Error(`counter ${i} of ${target.name} moved by ${added} for a ${answer.status} (${c.path})`);
  }
  const malformed = after.malformedTotal - before.malformedTotal;
  if (malformed < 0 || malformed > (accepted ? 0 : 1)) throw new Error(`the malformed counter moved by ${malformed} for a ${answer.status}`);
  if (!accepted) {
    if (after.recovery !== before.recovery) throw new Error(`a refused request (${said}) changed the recovery state:\n${before.recovery}\n→ ${after.recovery}`);
    const moved = [...after.metrics].filter(([key, value]) => before.metrics.get(key) !== value).map(([key]) => key);
    if (moved.length > 0) throw new Error(`a refused request (${said}) moved ${moved.slice(0, 5).join(', ')}`);
  }
}
