import type { AddressInfo } from 'node:net';
import type { BridgeComponent, ComponentContext, ComponentFactory } from '../../component.js';
import { SourceHealth, type HealthReporter } from '../../metrics/source-health.js';
import type { TimerHandle } from '../../util/clock.js';
import { errorMessage } from '../../util/errors.js';
import { iso } from '../../util/time.js';
import { systemTimeZone } from '../usage/ccusage.js';
import type { LiveFigures, ScopeFigures } from './figures.js';
import { registerTelemetryMetrics } from './metrics.js';
import { parseLogsRequest, parseMetricsRequest, type Parsed } from './payload.js';
import type { ExportOutcome } from './proto.js';
import { OtlpReceiver } from './receiver.js';
import { ClaudeCodeTelemetry } from './telemetry.js';

export interface OtlpComponentOptions {
  /** IANA zone "today" is counted in; the system's by default. */
  timeZone?: string;
}

export interface OtlpComponent extends BridgeComponent {
  readonly telemetry: ClaudeCodeTelemetry;
  /** The receiver's bound address while it listens. */
  address(): AddressInfo | null;
}

export const OTLP_SOURCE = 'otlp';

/**
 * Claude Code's own telemetry as a live usage and rate-limit source: an OTLP/HTTP receiver on
 * its own port (`otlp.port`), counters of what Claude Code reported, live block/day figures
 * merged into the alert signals (the higher figure wins), and an `api_error` 429 reported as a
 * rate limit at once.
 */
export function createOtlpComponent(options: OtlpComponentOptions = {}): ComponentFactory {
  return (context) => buildOtlpComponent(context, options);
}

export function buildOtlpComponent(context: ComponentContext, options: OtlpComponentOptions = {}): OtlpComponent {
  const { config, registry, clock, report } = context;
  const settings = config.otlp;
  const logger = context.logger.child({ component: 'otlp' });
  let telemetry: ClaudeCodeTelemetry | null = null;
  const counters = registerTelemetryMetrics(registry, () => telemetry!.figures());
  telemetry = new ClaudeCodeTelemetry({
    usage: config.usage,
    clock,
    timeZone: options.timeZone ?? systemTimeZone(),
    counters,
    report,
    peerSignals: () => context.peerSignals?.() ?? {},
  });
  const live = telemetry;
  const health = new SourceHealth(OTLP_SOURCE, registry, clock, settings.enabled);
  const exports = { accepted: 0, partial: 0, rejected: 0, lastProblem: null as string | null };
  let bound: AddressInfo | null = null;
  let retry: TimerHandle | null = null;
  let running = false;

  const receiver = new OtlpReceiver({
    host: settings.host,
    port: settings.port,
    maxBodyBytes: settings.max_body_bytes,
    logger,
    handle: (signal, request) => {
      const parsed: Parsed<unknown> = signal === 'metrics' ? parseMetricsRequest(request) : parseLogsRequest(request);
      const { duplicates } =
        signal === 'metrics' ? live.ingestMetrics(parsed as ReturnType<typeof parseMetricsRequest>) : live.ingestLogs(parsed as ReturnType<typeof parseLogsRequest>);
      if (duplicates > 0) counters.duplicates.inc({ signal }, duplicates);
      return outcomeOf(parsed);
    },
    onExport: (signal, status, outcome, error) => {
      const result = status !== 200 ? 'rejected' : outcome && outcome.rejected > 0 ? 'partial' : 'success';
      counters.exports.inc({ signal, result });
      if (outcome && outcome.rejected > 0) counters.rejectedItems.inc({ signal }, outcome.rejected);
      if (status === 200) health.success(); // last_success: the last export taken
      if (result === 'success') exports.accepted += 1;
      else if (result === 'partial') exports.partial += 1;
      else exports.rejected += 1;
      if (result !== 'success') exports.lastProblem = `${signal}: ${error ?? outcome?.errorMessage ?? 'rejected'}`;
    },
  });

  const listen = async (): Promise<void> => {
    retry = null;
    if (!running) return;
    try {
      bound = await receiver.start();
      health.success({ listening: `http://${bound.address}:${bound.port}` });
      logger.info('OTLP receiver listening', { host: bound.address, port: bound.port });
    } catch (error) {
      const message = `cannot listen on ${settings.host}:${settings.port}: ${errorMessage(error)}`;
      health.failure(message, { hint: 'another program (an OpenTelemetry Collector?) has the port: set otlp.port, or otlp.enabled: false' });
      logger.warn('OTLP receiver cannot listen; will retry', { error: message, retry_s: settings.retry_bind_s });
      retry = clock.setTimeout(() => void listen(), settings.retry_bind_s * 1000);
    }
  };

  const reporter: HealthReporter = {
    name: OTLP_SOURCE,
    status: () => {
      const status = health.status();
      if (!settings.enabled) return status;
      return { ...status, details: { ...status.details, ...healthDetails(live, exports) } };
    },
  };

  return {
    name: 'otlp',
    health: [reporter],
    section: { key: 'otlp_data', read: () => otlpData(settings.enabled, bound, live) },
    signals: () => (settings.enabled ? live.signals() : {}),
    start: async () => {
      if (!settings.enabled) return;
      running = true;
      await listen();
    },
    stop: async () => {
      running = false;
      if (retry) clock.clearTimeout(retry);
      retry = null;
      await receiver.stop();
      bound = null;
    },
    telemetry: live,
    address: () => bound,
  };
}

export const otlpComponent: ComponentFactory = createOtlpComponent();

function outcomeOf(parsed: Parsed<unknown>): ExportOutcome {
  if (parsed.rejected === 0) return { rejected: 0, errorMessage: null };
  return { rejected: parsed.rejected, errorMessage: `rejected ${parsed.rejected}: ${parsed.problems.join('; ')}` };
}

/** Which source each figure came from, for /health. */
function healthDetails(telemetry: ClaudeCodeTelemetry, exports: { accepted: number; partial: number; rejected: number; lastProblem: string | null }) {
  const figures = telemetry.figures();
  const last = telemetry.lastExports();
  return {
    last_metrics_export: iso(last.metrics),
    last_logs_export: iso(last.logs),
    exports: { success: exports.accepted, partial: exports.partial, rejected: exports.rejected },
    last_problem: exports.lastProblem,
    figures: {
      block: figures.block ? { boundaries_from: figures.block.from, tokens_and_cost_from: streamName(figures.block.stream) } : null,
      today: { tokens_and_cost_from: streamName(figures.today.stream) },
      requests_and_errors_from: 'api_request and api_error events',
    },
  };
}

function streamName(stream: ScopeFigures['stream']): string {
  return stream === 'metrics' ? 'claude_code.token.usage and claude_code.cost.usage metrics' : 'api_request events';
}

/** The `otlp_data` section of GET /metrics. */
function otlpData(enabled: boolean, bound: AddressInfo | null, telemetry: ClaudeCodeTelemetry) {
  if (!enabled) return { enabled: false };
  const figures: LiveFigures = telemetry.figures();
  const last = telemetry.lastExports();
  const scope = (s: ScopeFigures) => ({
    tokens: s.tokens,
    tokens_input_output: s.tokensInputOutput,
    cost_usd: s.costUsd,
    by_family: s.byFamily,
    requests: s.requests,
    api_errors: s.errors,
    rate_limited: s.rateLimited,
    from: s.stream,
  });
  const block = figures.block;
  return {
    enabled: true,
    listening: bound ? `http://${bound.address}:${bound.port}` : null,
    last_export: { metrics: iso(last.metrics), logs: iso(last.logs) },
    block: block
      ? {
          ...scope(block),
          start: iso(block.start),
          end: iso(block.end),
          boundaries_from: block.from,
          token_limit: block.tokenLimit,
          used_ratio: block.usedRatio,
          burn_rate: block.burnRate ? { tokens_per_minute: block.burnRate.tokensPerMinute, usd_per_hour: block.burnRate.usdPerHour } : null,
        }
      : null,
    today: { date: figures.today.date, ...scope(figures.today) },
  };
}
