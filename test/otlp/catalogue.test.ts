import { buildOtlpComponent } from '../../src/sources/otlp/index.js';
import { readRepoFile } from '../support/binaries.js';
import { testConfig } from '../support/config.js';
import { ManualClock } from '../support/manual-clock.js';
import { testContext } from '../usage/support/usage.js';

describe('telemetry metrics contract (docs/METRICS.md)', () => {
  it('registers every metric of the telemetry section with its type and labels, and none it does not list', async () => {
    const section = readRepoFile('docs', 'METRICS.md').split('## Claude Code telemetry')[1]!.split('\n## ')[0]!;
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('| claude_bridge_'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    expect(rows.length).toBe(21);
    const context = testContext(testConfig({ usage: { source: 'none' } }), new ManualClock());
    const before = new Set(context.registry.getMetricsAsArray().map((m) => m.name));
    buildOtlpComponent(context, { timeZone: 'UTC' });
    const added = context.registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n) && !n.startsWith('claude_bridge_source_'));
    expect(added.sort()).toEqual(rows.map((r) => r[1]).sort());
    for (const [, name, type, labels] of rows) {
      const metric = context.registry.getSingleMetric(name!) as unknown as { labelNames: string[] };
      const expected = (labels ?? '').replace(/\([^)]*\)/g, '').split(',').map((l) => l.trim()).filter(Boolean);
      expect({ name, labels: [...metric.labelNames].sort() }).toEqual({ name, labels: expected.sort() });
      expect(await context.registry.getSingleMetricAsString(name!)).toContain(`# TYPE ${name} ${type}`);
    }
  });
});
