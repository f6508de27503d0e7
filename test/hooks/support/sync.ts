import type { BridgeConfig } from '../../../src/config/index.js';
import { testConfig } from '../../support/config.js';
import { ManualClock } from '../../support/manual-clock.js';
import type { FakeHooksServer, NewEvent } from './fake-hooks-server.js';
import { AFTER_FIXTURES, hooksHarness, tempStateDir, type ComponentHarness } from './harness.js';
import { waitFor } from './metrics.js';

/** A safety net, not a limit: a catch-up of thousands of events takes seconds under ts-jest. */
const CATCH_UP_WAIT_MS = 60_000;

/** Events are stamped a second apart, starting 20 hours before the fixtures' "now". */
const FIRST_EVENT_AT = AFTER_FIXTURES - 20 * 3_600_000;

/** Hook events as send_event.py posts them, with increasing timestamps unless told otherwise. */
export class EventMaker {
  private tick = 0;

  constructor(private readonly sessionId = 'sess-1') {}

  make(type: string, extra: Partial<NewEvent> = {}): NewEvent {
    this.tick += 1;
    const payload: Record<string, unknown> = { hook_event_name: type, session_id: this.sessionId };
    if (type === 'PreToolUse' || type === 'PostToolUse') Object.assign(payload, { tool_name: 'Bash', tool_use_id: `toolu_${this.sessionId}_${this.tick}` });
    return { source_app: 'obs-test', session_id: this.sessionId, hook_event_type: type, payload, timestamp: FIRST_EVENT_AT + this.tick * 1000, ...extra };
  }

  /** `count` events cycling through `types`. */
  many(count: number, types: readonly string[] = ['PreToolUse', 'PostToolUse', 'UserPromptSubmit', 'Stop']): NewEvent[] {
    return Array.from({ length: count }, (_, i) => this.make(types[i % types.length]!));
  }
}

/** How many of `events` there are of each type. */
export function countByType(events: readonly Record<string, unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const event of events) {
    const type = String(event.hook_event_type);
    out[type] = (out[type] ?? 0) + 1;
  }
  return out;
}

export function syncConfig(server: FakeHooksServer, hooksServer: Partial<BridgeConfig['hooks_server']> = {}): BridgeConfig {
  return testConfig({ hooks_server: { url: server.url, reconnect_initial_ms: 1000, reconnect_max_ms: 8000, ...hooksServer } });
}

/** One run of the bridge's hooks component: a restart is a new BridgeRun over the same state dir. */
export class BridgeRun {
  readonly harness: ComponentHarness;

  private constructor(
    private readonly server: FakeHooksServer,
    config: BridgeConfig,
    stateDir: string,
  ) {
    this.harness = hooksHarness(config, new ManualClock(AFTER_FIXTURES), stateDir);
  }

  /** Starts and waits until the stream is in step (baseline taken or caught up). */
  static async start(server: FakeHooksServer, options: { stateDir?: string; config?: BridgeConfig } = {}): Promise<BridgeRun> {
    const run = new BridgeRun(server, options.config ?? syncConfig(server), options.stateDir ?? tempStateDir());
    const connections = server.connections;
    await run.harness.component.start!();
    await run.waitInStep(connections + 1);
    return run;
  }

  get stateDir(): string {
    return this.harness.stateDir;
  }

  details(): Record<string, unknown> {
    return this.harness.healthDetails();
  }

  async total(): Promise<number> {
    return (await this.harness.summary()).events_total;
  }

  async byType(): Promise<Record<string, number>> {
    return (await this.harness.summary()).events_by_type;
  }

  /** Waits for the `connections`-th connection to the server to be live (its replay and catch-up done). */
  async waitInStep(connections: number): Promise<void> {
    await waitFor(
      () => this.server.connections >= connections && this.harness.websocketState() === 'connected' && this.details().sync === 'live',
      'the stream in step',
      CATCH_UP_WAIT_MS,
    );
  }

  /** The server stops (its connections drop); `change` runs while it is down; then it starts and the bridge reconnects. */
  async serverRestart(change: () => void | Promise<void>): Promise<void> {
    this.server.down = true;
    this.server.dropConnections();
    await waitFor(() => this.harness.websocketState() === 'disconnected' && this.harness.clock.pendingTimers() > 0, 'the reconnect to be scheduled');
    await change();
    this.server.down = false;
    const connections = this.server.connections;
    this.harness.clock.advance(8000); // reconnect_max_ms: whatever the jitter, the reconnect is due
    await this.waitInStep(connections + 1);
  }

  async stop(): Promise<void> {
    await this.harness.component.stop!();
  }
}
