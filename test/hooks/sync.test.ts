import { jest } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CURSOR_FILE } from '../../src/sources/hooks/cursor-store.js';
import { hooksComponent } from '../../src/sources/hooks/index.js';
import { startBridge } from '../support/bridge.js';
import { ManualClock } from '../support/manual-clock.js';
import { FakeHooksServer, REPLAY_SIZE, type StoredEvent } from './support/fake-hooks-server.js';
import { AFTER_FIXTURES, tempStateDir } from './support/harness.js';
import { sampleKey, samples, waitFor } from './support/metrics.js';
import { BridgeRun, countByType, EventMaker, syncConfig } from './support/sync.js';

/**
 * The cases of issue 12, each with exact counts, against a test double that answers like the
 * Bun server: replay = newest 300 by timestamp, windows = newest N by timestamp, ids handed out
 * again after lost rows, a deleted database starting at 1. A bridge restart is a new run over the
 * same state dir.
 */
describe('hooks server sync: exactly once across restarts of either side', () => {
  let server: FakeHooksServer;
  const runs: BridgeRun[] = [];
  const make = new EventMaker();

  beforeEach(async () => {
    server = await FakeHooksServer.start();
  });
  afterEach(async () => {
    for (const run of runs.splice(0)) await run.stop();
    await server.close();
  });

  async function start(options: Parameters<typeof BridgeRun.start>[1] = {}): Promise<BridgeRun> {
    const run = await BridgeRun.start(server, options);
    runs.push(run);
    return run;
  }

  async function postAll(events: ReturnType<EventMaker['many']>): Promise<StoredEvent[]> {
    const stored: StoredEvent[] = [];
    for (const event of events) stored.push(await server.post(event));
    return stored;
  }

  const resets = async (run: BridgeRun) => {
    const m = await samples(run.harness.registry);
    return {
      reset: m.get(sampleKey('claude_bridge_hooks_database_resets_total', { kind: 'reset' })),
      rollback: m.get(sampleKey('claude_bridge_hooks_database_resets_total', { kind: 'rollback' })),
    };
  };

  describe('1. a partly rolled-back database is recognised by the event at the cursor, not recounted', () => {
    it('the highest row deleted: nothing recounted, and the reused id counts as a new event', async () => {
      const bridge = await start();
      const live = await postAll(make.many(30));
      await waitTotal(bridge, 30);

      await bridge.serverRestart(() => void server.loseNewestRows(1));
      expect(await bridge.total()).toBe(30);
      expect(await resets(bridge)).toEqual({ reset: 0, rollback: 1 });
      expect(bridge.details()).toMatchObject({ database_rollbacks_total: 1, database_resets_total: 0, cursor: { id: 29 } });

      const reused = await server.post(make.make('Notification', { payload: { notification_type: 'idle_prompt' } }));
      expect(reused.id).toBe(live[29]!.id); // id 30 again
      await waitTotal(bridge, 31);
      expect((await bridge.harness.summary()).duplicates_dropped_total).toBe(29); // the replay of ids 1..29, nothing live
      expect(await bridge.byType()).toEqual({ ...countByType(live), Notification: 1 });
    });

    it('at scale, across a restart of both: 127 rows lost, their ids handed out again while the bridge is down', async () => {
      server.stored = []; // history before the first start: none
      const first = await start();
      const live = await postAll(make.many(2_000));
      await waitTotal(first, 2_000);
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      // kill -9 of the server, then its WAL clean-up: the newest 127 rows are gone; 60 new events reuse their ids.
      const lost = server.loseNewestRows(127);
      const fresh = make.many(60, ['SubagentStart', 'SubagentStop', 'PreCompact']).map((e) => server.insert(e));
      expect(fresh[0]!.id).toBe(lost[lost.length - 1]!.id);

      const second = await start({ stateDir: first.stateDir });
      expect(await second.total()).toBe(60); // only the new events: no old row counted again, none dropped as a duplicate
      expect(await second.byType()).toEqual(countByType(fresh));
      expect(await resets(second)).toEqual({ reset: 0, rollback: 1 });
      expect(server.recentRequests).toEqual([]); // the replay held the newest intact event
      expect(live).toHaveLength(2_000);
    });
  });

  describe('2. a database deleted and refilled while the bridge is away is a reset', () => {
    it('refilled before the bridge reconnects: every new event counted, by type', async () => {
      const bridge = await start();
      const before = await postAll(make.many(20, ['UserPromptSubmit', 'Stop']));
      await waitTotal(bridge, 20);

      const refill = make.many(30, ['SessionStart', 'PreToolUse', 'PostToolUse']);
      let stored: StoredEvent[] = [];
      await bridge.serverRestart(() => {
        server.deleteDatabase();
        stored = refill.map((e) => server.insert(e));
      });
      expect(stored.map((e) => e.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1)); // ids 1..30 again
      expect(await bridge.total()).toBe(50);
      expect(await bridge.byType()).toEqual(countByType([...before, ...stored]));
      expect(await resets(bridge)).toEqual({ reset: 1, rollback: 0 });
      expect((await bridge.harness.summary()).duplicates_dropped_total).toBe(0);
    });

    it('refilled beyond the replay while the bridge is stopped: found by a growing window', async () => {
      const first = await start();
      await postAll(make.many(20));
      await waitTotal(first, 20);
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      server.deleteDatabase();
      const refill = make.many(350, ['Notification', 'Stop']).map((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      expect(await second.total()).toBe(350);
      expect(await second.byType()).toEqual(countByType(refill));
      expect(server.recentRequests).toEqual(['?limit=1200']);
      expect(await resets(second)).toEqual({ reset: 1, rollback: 0 });
    });
  });

  describe('3. an event from before the first start is history, whatever its timestamp', () => {
    /** 310 events, then one stamped older than all of them: the replay (newest 300 by timestamp) leaves it and ids 1..10 out. */
    function historyWithAnOldStampedEvent(): StoredEvent {
      for (const event of make.many(310)) server.insert(event);
      const old = server.insert(make.make('PreCompact', { timestamp: Date.parse('2026-01-01T00:00:00Z'), payload: { trigger: 'manual' } }));
      expect(old.id).toBe(311);
      return old;
    }

    it('settled by the first live event of the first connection', async () => {
      historyWithAnOldStampedEvent();
      const first = await start();
      expect(first.details()).toMatchObject({ baseline: 'provisional', cursor: { id: 310 } });
      await server.post(make.make('UserPromptSubmit'));
      await waitTotal(first, 1);
      expect(first.details().baseline).toBe('taken');
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      const missed = make.many(400).map((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      expect(server.recentRequests).toEqual(['?limit=1200']); // the whole table: the old-stamped event is in it
      expect(await second.total()).toBe(400);
      expect(await second.byType()).toEqual(countByType(missed));
    });

    it('without a live event on the first connection: left out by its timestamp', async () => {
      historyWithAnOldStampedEvent();
      const first = await start();
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      const missed = make.many(400).map((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      expect(server.recentRequests).toEqual(['?limit=1200']);
      expect(await second.total()).toBe(400);
      expect(await second.byType()).toEqual(countByType(missed));
    });
  });

  describe('4. events sent while the bridge is down are counted on its next start', () => {
    it('the first start takes a baseline; later starts count what they missed', async () => {
      const history = make.many(5).map((e) => server.insert(e));
      const first = await start();
      expect(await first.total()).toBe(0); // history: the baseline
      expect(first.details()).toMatchObject({ baseline: 'taken', cursor: { id: history[4]!.id } });
      await postAll(make.many(10));
      await waitTotal(first, 10);
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      const whileDown = make.many(25, ['SessionStart', 'UserPromptSubmit', 'Stop', 'SessionEnd']).map((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      expect(await second.total()).toBe(25);
      expect(await second.byType()).toEqual(countByType(whileDown));
      // The replay holds all 40 stored events: the 15 known ones are dropped as duplicates.
      expect(server.stored.length).toBeLessThan(REPLAY_SIZE);
      expect((await second.harness.summary()).duplicates_dropped_total).toBe(15);
    });

    it('after kill -9: what the last scrape showed is not counted again; what it did not show is counted once', async () => {
      const first = await start();
      const cursorFile = path.join(first.stateDir, CURSOR_FILE);
      await postAll(make.many(10));
      await waitTotal(first, 10);
      await first.harness.registry.metrics(); // a Prometheus scrape: the cursor is saved before the counts are shown
      const atScrape = readFileSync(cursorFile, 'utf8');
      await postAll(make.many(3, ['Stop']));
      await waitTotal(first, 13); // counted, never shown
      // kill -9: the process is gone, its file as the scrape left it.
      await first.stop();
      runs.splice(runs.indexOf(first), 1);
      writeFileSync(cursorFile, atScrape);

      make.many(7, ['Notification']).forEach((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      // The series showed 10; this run shows 10 more: the 20 events sent after the baseline, each once.
      expect(await second.total()).toBe(10);
      expect(await second.byType()).toEqual({ Stop: 3, Notification: 7 });
    });
  });

  describe('5. catch-up in growing windows, never the whole table', () => {
    it('asks for 1200, 4800, 19200 until the cursor is in the window', async () => {
      const first = await start();
      await server.post(make.make('SessionStart'));
      await waitTotal(first, 1);
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      const missed = make.many(5_000).map((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      expect(server.recentRequests).toEqual(['?limit=1200', '?limit=4800', '?limit=19200']);
      expect(await second.total()).toBe(5_000);
      expect(await second.byType()).toEqual(countByType(missed));
      expect(second.details().catch_up).toMatchObject({ capped_total: 0, last: { windows: [1200, 4800, 19200], counted: 5_000, verdict: 'in-step', capped: false } });
      const m = await samples(second.harness.registry);
      expect(m.get('claude_bridge_hooks_catch_up_requests_total')).toBe(3);
      expect(m.get('claude_bridge_hooks_catch_up_events_total')).toBe(5_000);
    });

    it('stops at catch_up_max_events, counts that window, and reports the cap', async () => {
      const config = syncConfig(server, { catch_up_max_events: 1200 });
      const first = await start({ config });
      await server.post(make.make('SessionStart'));
      await waitTotal(first, 1);
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      const missed = make.many(2_000).map((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir, config });
      expect(server.recentRequests).toEqual(['?limit=1200']);
      expect(await second.total()).toBe(1200);
      expect(await second.byType()).toEqual(countByType(missed.slice(-1200)));
      expect(second.details().catch_up).toMatchObject({ capped_total: 1, last: { capped: true, counted: 1200 } });
      expect((await samples(second.harness.registry)).get('claude_bridge_hooks_catch_up_capped_total')).toBe(1);
    });

    it('reads windows and replays far above max_frame_bytes, chats and all, as streams', async () => {
      const config = syncConfig(server, { max_frame_bytes: 64 * 1024 });
      const first = await start({ config });
      await server.post(make.make('SessionStart'));
      await waitTotal(first, 1);
      await first.stop();
      runs.splice(runs.indexOf(first), 1);

      const chat = Array.from({ length: 20 }, (_, i) => ({ type: 'assistant', message: { content: 'x'.repeat(1000), usage: { output_tokens: i } } })); // 20 KB each
      const missed = make.many(400, ['Stop']).map((e) => server.insert({ ...e, chat }));
      server.fragmentReplay = 100_000; // a 6 MB replay in fragments, with pings between them
      const second = await start({ stateDir: first.stateDir, config });
      expect(server.connections).toBe(2); // no 1009 loop
      expect(await second.total()).toBe(400);
      expect(await second.byType()).toEqual(countByType(missed));
    });
  });

  describe('6. what /health and the metrics show', () => {
    it('/prometheus shows the resets and rollbacks, and the catch-up figures', async () => {
      const clock = new ManualClock(AFTER_FIXTURES);
      const config = syncConfig(server);
      config.state.dir = tempStateDir();
      const api = await startBridge({ config, clock, components: [hooksComponent] });
      try {
        const health = async () => (await api.get('/health')).body.sources.hooks_server.details as Record<string, unknown>;
        await waitFor(async () => (await health()).sync === 'live', 'the first replay');
        await postAll(make.many(5));
        await waitFor(async () => (await api.get('/metrics')).body.hooks_data.events_total === 5, 'five live events');
        server.down = true;
        server.dropConnections();
        await waitFor(async () => (await health()).state === 'disconnected' && clock.pendingTimers() > 0, 'the reconnect to be scheduled');
        server.loseNewestRows(2);
        server.down = false;
        clock.advance(8000);
        await waitFor(async () => server.connections === 2 && (await health()).sync === 'live', 'the reconnect');
        const exposition = (await api.get('/prometheus')).text;
        expect(exposition).toContain('claude_bridge_hooks_database_resets_total{kind="rollback"} 1');
        expect(exposition).toContain('claude_bridge_hooks_database_resets_total{kind="reset"} 0');
        expect(exposition).toContain('claude_bridge_hooks_catch_up_capped_total 0');
        expect(exposition).toContain('claude_bridge_hook_events_total{event="PreToolUse",source_app="obs-test"} 2'); // counted before the rollback, not again
        expect(await health()).toMatchObject({ database_rollbacks_total: 1, database_resets_total: 0, cursor: { id: 3 } });
      } finally {
        await api.stop();
      }
    });

    it('a prompt exit after SIGTERM: the catch-up uses no fetch and leaves no connection, timer or socket behind', async () => {
      // fetch's HTTP parser is WebAssembly that V8 recompiles in the background; the process waited for it on exit.
      const fetchSpy = jest.spyOn(globalThis, 'fetch');
      try {
        const first = await start();
        await first.stop();
        runs.splice(runs.indexOf(first), 1);
        make.many(400).forEach((e) => server.insert(e));
        const second = await start({ stateDir: first.stateDir });
        expect(server.recentRequests).toEqual(['?limit=1200']);
        expect(await second.total()).toBe(400);
        expect(fetchSpy).not.toHaveBeenCalled();
        await waitFor(() => server.openHttpConnections === 0, 'the window connection to close');
        await second.stop();
        runs.splice(runs.indexOf(second), 1);
        await waitFor(() => server.openConnections === 0, 'the WebSocket to close');
        expect(second.harness.clock.pendingTimers()).toBe(0);
      } finally {
        fetchSpy.mockRestore();
      }
    });

    it('last_event_at moves on events recovered by catch-up', async () => {
      const first = await start();
      await first.stop();
      runs.splice(runs.indexOf(first), 1);
      make.many(3).forEach((e) => server.insert(e));
      const second = await start({ stateDir: first.stateDir });
      expect(await second.total()).toBe(3);
      expect(second.details().last_event_at).toBe(new Date(second.harness.clock.now()).toISOString());
    });
  });
});

async function waitTotal(run: BridgeRun, expected: number): Promise<void> {
  await waitFor(async () => (await run.total()) === expected, `${expected} events counted`);
}
