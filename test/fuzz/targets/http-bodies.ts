import fc from 'fast-check';
import { ALERT_TYPES } from '../../../src/alerts/types.js';
import { readJsonFixture, readJsonLinesFixture } from '../../support/fixtures.js';
import { fuzzBody, type FuzzBody } from '../support/mutate.js';
import type { Observed, Verdict } from '../support/http-harness.js';

/** The fuzz bridge's clock starts here (the recorded samples are of 2026-11-25). */
export const FUZZ_NOW = Date.parse('2026-11-25T16:30:00Z');

export interface HttpCase {
  path: string;
  body: FuzzBody | null;
}

/**
 * One HTTP input of the bridge. To fuzz a new endpoint, add an entry to HTTP_BODY_TARGETS: its
 * cases (recorded samples through `fuzzBody`), and where it can tell, an oracle and a counter.
 * test/fuzz/http-bodies.test.ts checks every entry against the same properties.
 */
export interface HttpBodyTarget {
  /** `POST <path>`, as the test and docs/RELIABILITY.md name it. */
  name: string;
  cases: fc.Arbitrary<HttpCase>;
  /** The endpoint's body limit under the default config; false when it reads no body. */
  bodyLimit: '1mb' | '8mb' | '32mb' | false;
  /**
   * Whether a body must be accepted (2xx) or refused (4xx), judged from the spec and not from
   * the code: `body` is the parsed JSON the endpoint receives (undefined when none).
   */
  verdict?: (path: string, body: unknown, now: number) => Verdict;
  /** Counters an accepted body adds exactly 1 to, and a refused one leaves alone. */
  counters?: ((observed: Observed) => number)[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (value: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/** The hooks server's `POST /events` contract: the four required fields truthy, and the HookEvent types. */
function sendEventVerdict(_path: string, body: unknown): Verdict {
  if (!isObject(body)) return 'refuse';
  if (!body.source_app || !body.session_id || !body.hook_event_type || !body.payload) return 'refuse';
  if (typeof body.source_app !== 'string' || typeof body.session_id !== 'string' || typeof body.hook_event_type !== 'string') return 'refuse';
  if (!isObject(body.payload)) return 'refuse';
  if (own(body, 'id') && !(Number.isInteger(body.id) && (body.id as number) > 0)) return 'refuse';
  if (own(body, 'timestamp') && !(typeof body.timestamp === 'number' && Number.isFinite(body.timestamp))) return 'refuse';
  return 'accept';
}

const HOOK_EVENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Claude Code's HTTP hooks: the event is named by the URL or the input, and both agree when both do. */
function hookVerdict(path: string, body: unknown): Verdict {
  if (!isObject(body)) return 'refuse';
  // `/hooks/` is `/hooks` (Express routes a trailing slash alike).
  const segment = path.startsWith('/hooks/') && path !== '/hooks/' ? path.slice('/hooks/'.length) : undefined;
  let fromPath: string | undefined;
  try {
    fromPath = segment === undefined ? undefined : decodeURIComponent(segment);
  } catch {
    return 'refuse';
  }
  const named = typeof body.hook_event_name === 'string' ? body.hook_event_name : undefined;
  const event = fromPath ?? named;
  if (event === undefined || !HOOK_EVENT_NAME.test(event)) return 'refuse';
  return fromPath !== undefined && named !== undefined && fromPath !== named ? 'refuse' : 'accept';
}

/** `POST /alerts/:type`: a known type; an optional summary (≤ 500) and resets_at (ahead, ≤ 8 days). */
function alertVerdict(path: string, body: unknown, now: number): Verdict {
  const type = decodeURIComponent(path.slice('/alerts/'.length).split('?')[0]!);
  if (!(ALERT_TYPES as readonly string[]).includes(type)) return 'refuse';
  if (body === undefined || body === null) return 'accept';
  if (!isObject(body)) return 'refuse';
  if (own(body, 'summary') && !(typeof body.summary === 'string' && body.summary.length <= 500)) return 'refuse';
  if (!own(body, 'resets_at')) return 'accept';
  const resetsAt = body.resets_at;
  if (typeof resetsAt === 'number') {
    const ms = resetsAt * 1000;
    return Number.isFinite(resetsAt) && resetsAt > 0 && ms > now && ms - now <= 8 * 86_400_000 ? 'accept' : 'refuse';
  }
  if (typeof resetsAt !== 'string' || Number.isNaN(Date.parse(resetsAt))) return 'refuse';
  return 'either'; // an ISO time: RFC 3339 with an offset, which Date.parse alone does not decide
}

/** Alertmanager's webhook, version 4: the envelope decides; one bad alert among good ones is reported, not refused. */
function webhookVerdict(_path: string, body: unknown): Verdict {
  if (!isObject(body) || body.version !== '4' || !Array.isArray(body.alerts)) return 'refuse';
  if (body.status !== 'firing' && body.status !== 'resolved') return 'refuse';
  if (body.alerts.length > 1000) return 'refuse';
  return 'either';
}

const sendEventBodies = readJsonLinesFixture<{ body: unknown }>('hooks-server', 'send_event-post-bodies.jsonl').map((r) => r.body);
const HOOK_INPUT_FILES = ['PostToolUse', 'PreToolUse', 'SessionEnd', 'Stop', 'StopFailure', 'UserPromptSubmit'];
const hookInputs = HOOK_INPUT_FILES.map((name) => readJsonFixture('claude-code', 'http-hook-inputs', `${name}.json`));
const statusLine = readJsonFixture('claude-code', 'statusline-input.json');
const webhookBodies = ['webhook-amtool-firing.json', 'webhook-amtool-resolved.json', 'webhook-prometheus-firing.json'].map(
  (name) => readJsonFixture<{ body: unknown }>('alertmanager', name).body,
);
/** What people and scripts post to /alerts/:type (there is no recorded sample: the README's examples). */
const alertBodies: unknown[] = [
  {},
  { summary: 'manual trigger from a script' },
  { resets_at: FUZZ_NOW / 1000 + 3600 },
  { resets_at: new Date(FUZZ_NOW + 2 * 3_600_000).toISOString(), summary: 'window resets' },
];

/** A name as a path segment; a lone surrogate (which encodeURIComponent refuses) goes as U+FFFD, as a client would send it. */
function segment(name: string): string {
  return encodeURIComponent(name.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** Path segments sent as they are: bad percent-encoding, dot segments, an encoded slash or NUL. */
const RAW_SEGMENTS = ['%E0%A4%A', '..', '%2e%2e', 'a%2Fb', '%00', 'x'.repeat(65)];
const eventSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOOK_INPUT_FILES, 'Notification', 'SessionStart', 'PreCompact', 'SubagentStop').map(segment) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(segment) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
);

/** The path usually names the event of the body it carries, so that most cases get past the routing. */
const hookCases: fc.Arbitrary<HttpCase> = fc
  .tuple(fuzzBody(hookInputs), fc.oneof({ weight: 3, arbitrary: fc.constant({ from: 'input' as const }) }, fc.constant({ from: 'none' as const }), eventSegment.map((segment) => ({ from: 'path' as const, segment }))))
  .map(([body, choice]) => {
    // A name too long for a request line (Node's parser answers 431 itself, before the bridge) stays in the body only.
    const named = isObject(body.value) && typeof body.value.hook_event_name === 'string' && body.value.hook_event_name.length <= 200 ? body.value.hook_event_name : 'PreToolUse';
    if (choice.from === 'none') return { path: '/hooks', body };
    return { path: `/hooks/${choice.from === 'input' ? segment(named) : choice.segment}`, body };
  });

const alertType = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ALERT_TYPES) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) });
const alertCases: fc.Arbitrary<HttpCase> = fc
  .tuple(alertType, fc.constantFrom('', '?resolve=1', '?status=resolved', '?resolve=TRUE&resolve=1'), fc.option(fuzzBody(alertBodies), { freq: 8 }))
  .map(([type, query, body]) => ({ path: `/alerts/${segment(type)}${query}`, body }));

const fixed = (path: string, samples: unknown[]): fc.Arbitrary<HttpCase> => fuzzBody(samples).map((body) => ({ path, body }));

export const HTTP_BODY_TARGETS: HttpBodyTarget[] = [
  {
    name: 'POST /events',
    cases: fixed('/events', sendEventBodies),
    bodyLimit: '32mb',
    verdict: sendEventVerdict,
    counters: [(o) => o.eventsTotal],
  },
  {
    name: 'POST /hooks/:event and /hooks',
    cases: hookCases,
    bodyLimit: '8mb',
    verdict: hookVerdict,
    counters: [(o) => o.eventsTotal, (o) => o.decisionsTotal], // the input recorded, the decision answered
  },
  {
    name: 'POST /statusline',
    cases: fixed('/statusline', [statusLine]),
    bodyLimit: '1mb',
    verdict: (_path, body) => (isObject(body) ? 'accept' : 'refuse'),
    counters: [(o) => o.statuslineUpdates],
  },
  { name: 'POST /alerts/:type', cases: alertCases, bodyLimit: '1mb', verdict: alertVerdict },
  {
    name: 'POST /recovery/resume',
    cases: fc.option(fuzzBody([{}, null]), { freq: 4 }).map((body) => ({ path: '/recovery/resume', body })),
    bodyLimit: false,
    verdict: () => 'accept',
  },
  { name: 'POST /alertmanager/webhook', cases: fixed('/alertmanager/webhook', webhookBodies), bodyLimit: '1mb', verdict: webhookVerdict },
];
