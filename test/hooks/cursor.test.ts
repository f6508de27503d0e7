import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CURSOR_FILE, FileCursorStore, type PersistedCursor } from '../../src/sources/hooks/cursor-store.js';
import { FakeHooksServer } from './support/fake-hooks-server.js';
import { tempStateDir } from './support/harness.js';
import { waitFor } from './support/metrics.js';
import { BridgeRun, EventMaker, syncConfig } from './support/sync.js';

const CURSOR: PersistedCursor = {
  version: 1,
  server: 'ws://127.0.0.1:4000/stream',
  saved_at: 1_795_600_000_000,
  seen: { through: 41, above: [[43, 44]] },
  remembered: [
    [40, 'abc', 1_795_600_000_000],
    [44, 'def', null],
  ],
  baseline: null,
};

describe('the hooks server cursor file', () => {
  it('is written atomically and read back', () => {
    const dir = tempStateDir();
    const store = new FileCursorStore(dir, () => 1);
    expect(store.load()).toEqual({ kind: 'none' });
    store.save(CURSOR);
    store.save({ ...CURSOR, saved_at: CURSOR.saved_at + 1 });
    expect(readdirSync(dir)).toEqual([CURSOR_FILE]); // no temp file left behind
    expect(store.load()).toEqual({ kind: 'loaded', cursor: { ...CURSOR, saved_at: CURSOR.saved_at + 1 } });
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['another shape', JSON.stringify({ ...CURSOR, remembered: [[0, '', 1]] })],
    ['another version', JSON.stringify({ ...CURSOR, version: 2 })],
  ])('%s: reported as unusable and kept aside, never thrown', (_label, content) => {
    const dir = tempStateDir();
    writeFileSync(path.join(dir, CURSOR_FILE), content);
    const load = new FileCursorStore(dir, () => 77).load();
    expect(load).toMatchObject({ kind: 'unusable', keptAs: path.join(dir, `${CURSOR_FILE}.corrupt-77`) });
    expect(readdirSync(dir)).toEqual([`${CURSOR_FILE}.corrupt-77`]);
  });

  it('unreadable (a folder in its place): unusable, not thrown', () => {
    const dir = tempStateDir();
    mkdirSync(path.join(dir, CURSOR_FILE));
    expect(new FileCursorStore(dir, () => 1).load()).toMatchObject({ kind: 'unusable', problem: expect.stringMatching(/EISDIR/) });
  });
});

describe('the cursor as the hooks source uses it', () => {
  let server: FakeHooksServer;
  let run: BridgeRun | null = null;
  const make = new EventMaker();

  beforeEach(async () => {
    server = await FakeHooksServer.start();
  });
  afterEach(async () => {
    await run?.stop();
    run = null;
    await server.close();
  });

  it('a corrupt file is shown in /health, a new baseline is taken, and a good file replaces it', async () => {
    const stateDir = tempStateDir();
    writeFileSync(path.join(stateDir, CURSOR_FILE), 'garbage');
    make.many(4).forEach((e) => server.insert(e));
    run = await BridgeRun.start(server, { stateDir });
    expect(run.details()).toMatchObject({ baseline: 'taken', cursor_problem: expect.stringMatching(/could not be used \(not JSON.*kept as .*corrupt-.*a new baseline is taken/) });
    expect(await run.total()).toBe(0);
    const saved = JSON.parse(readFileSync(path.join(stateDir, CURSOR_FILE), 'utf8')) as PersistedCursor;
    expect(saved).toMatchObject({ version: 1, server: server.url, seen: { through: 4 } });
  });

  it("a cursor of another server is not applied to this one's ids", async () => {
    const stateDir = tempStateDir();
    writeFileSync(path.join(stateDir, CURSOR_FILE), JSON.stringify({ ...CURSOR, server: 'ws://elsewhere:4000/stream' }));
    make.many(50).forEach((e) => server.insert(e));
    run = await BridgeRun.start(server, { stateDir });
    expect(await run.total()).toBe(0);
    expect(run.details().cursor_problem).toMatch(/belongs to ws:\/\/elsewhere:4000\/stream/);
  });

  it('a state dir that cannot be written: shown in /health, counting goes on, saved once it can be', async () => {
    const parent = tempStateDir();
    writeFileSync(path.join(parent, 'blocked'), 'a file where a folder should be');
    const stateDir = path.join(parent, 'blocked', 'state');
    run = await BridgeRun.start(server, { stateDir, config: syncConfig(server) });
    expect(run.details().cursor_problem).toMatch(/cannot save .*blocked\/state/);
    await server.post(make.make('Stop'));
    await waitFor(async () => (await run!.total()) === 1, 'a live event');
    await run.harness.registry.metrics(); // a scrape tries again
    expect(run.details().cursor_problem).toMatch(/cannot save/);

    rmSync(path.join(parent, 'blocked'));
    await run.harness.registry.metrics();
    expect(run.details()).toMatchObject({ cursor_problem: null, cursor_saved_at: expect.any(String) });
    expect(JSON.parse(readFileSync(path.join(stateDir, CURSOR_FILE), 'utf8'))).toMatchObject({ remembered: [[1, expect.any(String), expect.any(Number)]] });
  });
});
