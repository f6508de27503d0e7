import { createRequire } from 'node:module';
import { installCommand, pathBinaries, skippedTitle, type RequiredTool } from '../support/binaries.js';
import { claudeCodeTool } from './support/claude-code.js';

const require = createRequire(import.meta.url);
const { skipSummary } = require('../support/skip-reporter.cjs') as { skipSummary: (results: unknown) => string[] };

/** Jest's aggregated results, reduced to what the reporter reads. */
function results(...tests: { ancestorTitles: string[]; title: string; status: string }[]) {
  return { testResults: [{ testResults: tests }] };
}

describe('skipped for a missing tool: the mark and the closing list of npm test', () => {
  const claude: RequiredTool = { ...claudeCodeTool(), found: false };
  const [promtool, amtool] = pathBinaries(['promtool', 'amtool']).map((t) => ({ ...t, found: false }));

  it('names a Debian package with apt-get and any other tool with its own install command', () => {
    expect(installCommand([promtool!, amtool!])).toBe('apt-get install prometheus prometheus-alertmanager');
    expect(installCommand([claude])).toBe('npm run install-claude-code');
    expect(skippedTitle('suite', [claude, promtool!])).toBe(
      `suite [skipped: ${claude.name}, promtool not installed; apt-get install prometheus && npm run install-claude-code]`,
    );
  });

  it('ends npm test with one apt-get line for every package and one line per other command', () => {
    const lines = skipSummary(
      results(
        { ancestorTitles: [skippedTitle('Claude Code e2e', [claude])], title: 'normal', status: 'pending' },
        { ancestorTitles: [skippedTitle('Claude Code e2e', [claude])], title: 'paused', status: 'pending' },
        { ancestorTitles: ['rules'], title: skippedTitle('promtool lint', [promtool!]), status: 'pending' },
        { ancestorTitles: [skippedTitle('alerting loop', [amtool!, claude])], title: 'fires', status: 'pending' },
        { ancestorTitles: ['core'], title: 'passes', status: 'passed' },
      ),
    );
    expect(lines).toEqual([
      '',
      'Skipped 4 tests: a tool they run is not installed (CI installs it and skips nothing):',
      `  - Claude Code e2e (2 tests; needs ${claude.name})`,
      '  - promtool lint (1 test; needs promtool)',
      `  - alerting loop (1 test; needs amtool, ${claude.name})`,
      'Install: sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus prometheus-alertmanager',
      'Install: npm run install-claude-code',
      '',
    ]);
    expect(skipSummary(results({ ancestorTitles: [], title: 'ok', status: 'passed' }))).toEqual([]);
  });
});
