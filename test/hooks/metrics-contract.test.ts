import { hooksComponent } from '../../src/sources/hooks/index.js';
import { readRepoFile } from '../support/binaries.js';
import { startBridge } from '../support/bridge.js';
import { testConfig } from '../support/config.js';

describe('hook metrics contract (docs/METRICS.md)', () => {
  it('registers every metric of the Hook activity section, with its type and labels', async () => {
    const section = readRepoFile('docs', 'METRICS.md').split('## Hook activity')[1]!.split('\n## ')[0]!;
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('| claude_bridge_'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.map((row) => row[1])).toEqual(expect.arrayContaining(['claude_bridge_hooks_database_resets_total', 'claude_bridge_hooks_catch_up_capped_total']));
    // The bridge as served: the hooks component and the decision routes (src/http) that answer its hooks.
    const api = await startBridge({ config: testConfig({ hooks_server: { enabled: false } }), components: [hooksComponent] });
    try {
      for (const [, name, type, labels] of rows) {
        const metric = api.bridge.registry.getSingleMetric(name!) as unknown as { type?: string; labelNames?: string[] } | undefined;
        // "event, decision (allow, delay, deny, block)" → event, decision
        const documented = labels ? labels.replace(/\([^)]*\)/g, '').split(',').map((l) => l.trim()).filter(Boolean).sort() : [];
        expect({ name, type: metric?.type, labels: [...(metric?.labelNames ?? [])].sort() }).toEqual({ name, type, labels: documented });
      }
    } finally {
      await api.stop();
    }
  });
});
