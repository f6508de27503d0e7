/// <reference lib="dom" />
// The status page's script: renders GET /status (pushed by GET /status/stream, or polled when
// the stream is unavailable) and ticks the recovery countdown locally between updates.
export {};

interface Alert { alert: string; action: string; since: string; origins: { origin: string; summary?: string }[] }
interface Window_ { used_ratio: number; resets_at: string | null; source: string }
interface Decision { at: string; session_id: string | null; event: string; decision: string; reason: string | null }
interface Session {
  session_id: string; project: string | null; model: string | null; started_at: string; last_activity_at: string; ended: boolean;
  prompts: number; tool_calls: number; tokens: number | null; cost_usd: number | null; last_decision: Decision | null;
}
interface Source { enabled: boolean; up: boolean; last_success: string | null; last_error: string | null }
interface Summary {
  timestamp: string;
  recovery: { state: string; state_since: string; active_alerts: Alert[]; backoff: { attempt: number; delay_ms: number; until: string | null }; paused_until: string | null };
  health: { status: string; sources: Record<string, Source> };
  auth_required: boolean;
  thresholds: { cost_usd: number; cost_scope: 'block' | 'day'; tokens_used_ratio: number };
  usage_data?: {
    source: string; daily_cost_usd: number | null;
    block: { cost_usd: number | null; tokens_used_ratio: number | null; token_limit: number | null; token_limit_source: string; tokens_all_kinds: number } | null;
    rate_limits: { five_hour?: Window_; seven_day?: Window_ };
  };
  sessions_data?: { sessions: Session[]; recent_decisions: Decision[] };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let latest: Summary | null = null;
/** Bridge time minus page time: the countdown runs on the bridge's clock. */
let skewMs = 0;

function el(tag: string, text?: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

const time = (isoTime: string | null) => (isoTime ? new Date(isoTime).toLocaleTimeString() : '–');
/** A time within the day ahead as a time; further ahead with its date. */
const when = (isoTime: string) => (Date.parse(isoTime) - Date.now() < 20 * 3600_000 ? time(isoTime) : new Date(isoTime).toLocaleString([], { weekday: 'short', hour: '2-digit', minute: '2-digit' }));
const usd = (n: number | null | undefined) => (n === null || n === undefined ? '–' : `$${n.toFixed(2)}`);
const count = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toLocaleString());
const percent = (r: number) => `${Math.round(r * 100)}%`;

function render(summary: Summary): void {
  latest = summary;
  skewMs = Date.parse(summary.timestamp) - Date.now();
  const { recovery } = summary;
  const state = $('state');
  state.textContent = recovery.state;
  state.className = `badge ${recovery.state}`;
  const reasons = recovery.active_alerts.flatMap((a) => a.origins.map((o) => o.summary ?? `${a.alert} (${o.origin})`));
  $('reason').textContent = reasons.length ? reasons.join('; ') : recovery.state === 'normal' ? 'No limit near: Claude Code runs unhindered.' : `since ${time(recovery.state_since)}`;
  $('token').hidden = !summary.auth_required;
  $('resume').hidden = recovery.state === 'normal';
  renderAlerts(recovery.active_alerts);
  renderUsage(summary);
  renderSessions(summary.sessions_data?.sessions ?? []);
  renderDecisions(summary.sessions_data?.recent_decisions ?? []);
  renderSources(summary.health);
  tick();
}

function tick(): void {
  const node = $('countdown');
  if (!latest) return;
  const { recovery } = latest;
  const until = recovery.state === 'paused' ? recovery.paused_until : recovery.state === 'backoff' ? recovery.backoff.until : null;
  if (!until) {
    node.textContent = '';
    return;
  }
  const label = recovery.state === 'paused' ? 'resumes in' : 'backoff ends in';
  node.textContent = `${label} ${duration(Date.parse(until) - (Date.now() + skewMs))}`;
  node.title = new Date(until).toLocaleString();
}

function renderAlerts(alerts: Alert[]): void {
  const list = $('alerts');
  list.replaceChildren(...(alerts.length ? alerts.map((a) => el('li', `${a.alert} → ${a.action} since ${time(a.since)} (${a.origins.map((o) => o.origin).join(', ')})`)) : [el('li', 'none', 'muted')]));
}

function bar(label: string, ratio: number | null, detail: string, source: string): HTMLElement {
  const wrap = el('div', undefined, 'bar');
  const head = el('div', undefined, 'label');
  head.append(el('span', label), el('span', `${ratio === null ? '–' : percent(ratio)} ${detail}`.trim()), el('span', `source: ${source}`, 'muted'));
  const track = el('div', undefined, 'track');
  const fill = el('div', undefined, ratio !== null && ratio >= 1 ? 'fill over' : 'fill');
  fill.style.width = `${Math.min(100, Math.max(0, (ratio ?? 0) * 100))}%`;
  track.append(fill);
  wrap.append(head, track);
  return wrap;
}

function renderUsage(summary: Summary): void {
  const usage = summary.usage_data;
  const bars: HTMLElement[] = [];
  const windows = usage?.rate_limits ?? {};
  for (const [name, label] of [['five_hour', '5-hour window'], ['seven_day', 'Weekly']] as const) {
    const w = windows[name];
    bars.push(w ? bar(label, w.used_ratio, w.resets_at ? `· resets ${when(w.resets_at)}` : '', w.source) : bar(label, null, 'not known yet', 'none'));
  }
  const block = usage?.block ?? null;
  bars.push(
    block
      ? bar('Tokens (5-hour block)', block.tokens_used_ratio, `· ${count(block.tokens_all_kinds)} of ${count(block.token_limit)}`, `${usage?.source ?? '–'} (limit: ${block.token_limit_source})`)
      : bar('Tokens (5-hour block)', null, 'not known yet', usage?.source ?? 'none'),
  );
  const { cost_usd: threshold, cost_scope: scope } = summary.thresholds;
  const cost = scope === 'day' ? (usage?.daily_cost_usd ?? null) : (block?.cost_usd ?? null);
  bars.push(bar(scope === 'day' ? 'Cost today' : 'Cost (5-hour block)', cost === null ? null : cost / threshold, `· ${usd(cost)} of ${usd(threshold)} threshold`, usage?.source ?? 'none'));
  $('usage').replaceChildren(...bars);
}

function renderSessions(sessions: Session[]): void {
  const body = $('sessions').querySelector('tbody')!;
  if (!sessions.length) {
    const row = el('tr');
    const cell = el('td', 'No session seen recently (hooks and the status line report them).', 'muted');
    (cell as HTMLTableCellElement).colSpan = 9;
    row.append(cell);
    body.replaceChildren(row);
    return;
  }
  body.replaceChildren(
    ...sessions.map((s) => {
      const row = el('tr');
      const project = el('td', s.project ? s.project.split(/[\\/]/).filter(Boolean).pop() ?? s.project : s.session_id.slice(0, 8));
      project.title = `${s.project ?? ''} (session ${s.session_id})`;
      row.append(
        project,
        el('td', s.model ?? '–'),
        el('td', time(s.started_at)),
        el('td', `${time(s.last_activity_at)}${s.ended ? ' (ended)' : ''}`),
        el('td', String(s.prompts), 'num'),
        el('td', String(s.tool_calls), 'num'),
        el('td', count(s.tokens), 'num'),
        el('td', usd(s.cost_usd), 'num'),
        el('td', s.last_decision ? s.last_decision.decision : '–'),
      );
      return row;
    }),
  );
}

function renderDecisions(decisions: Decision[]): void {
  $('decisions').replaceChildren(
    ...(decisions.length
      ? decisions.slice(0, 10).map((d) => el('li', `${time(d.at)} ${d.event}: ${d.decision}${d.reason ? ` (${d.reason})` : ''}`))
      : [el('li', 'none yet', 'muted')]),
  );
}

function renderSources(health: Summary['health']): void {
  const items = Object.entries(health.sources).map(([name, s]) => {
    const item = el('li');
    const status = !s.enabled ? 'disabled' : s.up ? 'up' : 'down';
    item.append(el('strong', `${name}: `), el('span', status, s.enabled ? status : 'muted'));
    if (s.enabled && !s.up && s.last_error) item.append(el('span', ` (${s.last_error})`, 'muted'));
    return item;
  });
  $('sources').replaceChildren(el('li', `bridge: ${health.status}`), ...items);
}

async function poll(): Promise<void> {
  try {
    const response = await fetch('/status', { headers: { accept: 'application/json' } });
    if (response.ok) {
      render((await response.json()) as Summary);
      $('connection').textContent = 'live (polling)';
    } else $('connection').textContent = `bridge answered ${response.status}`;
  } catch {
    $('connection').textContent = 'bridge unreachable';
  }
  setTimeout(() => void poll(), 1000);
}

function connect(): void {
  if (typeof EventSource === 'undefined') return void poll();
  const stream = new EventSource('/status/stream');
  stream.addEventListener('status', (event) => {
    render(JSON.parse((event as MessageEvent<string>).data) as Summary);
    $('connection').textContent = 'live';
  });
  stream.onerror = () => {
    // The browser reconnects by itself; if the bridge refuses the stream it is closed: poll instead.
    if (stream.readyState === EventSource.CLOSED) void poll();
    else $('connection').textContent = 'reconnecting…';
  };
}

async function resume(event: Event): Promise<void> {
  event.preventDefault();
  const token = $<HTMLInputElement>('token');
  const result = $('resume-result');
  const headers: Record<string, string> = token.value ? { authorization: `Bearer ${token.value}` } : {};
  try {
    const response = await fetch('/recovery/resume', { method: 'POST', headers });
    if (response.status === 401) {
      token.hidden = false;
      token.focus();
      result.textContent = token.value ? 'the token was refused' : 'enter the bridge token (auth.token) first';
      return;
    }
    const body = (await response.json()) as { error?: string; recovery?: { state: string } };
    result.textContent = response.ok ? `resumed: ${body.recovery?.state ?? ''}` : `refused: ${body.error ?? response.status}`;
  } catch {
    result.textContent = 'bridge unreachable';
  }
}

$('resume-form').addEventListener('submit', (event) => void resume(event));
setInterval(tick, 250);
connect();
