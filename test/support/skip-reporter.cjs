/**
 * Jest reporter: repeats, as the last lines of `npm test`, every test skipped for a missing tool
 * (the mark test/support/binaries.ts puts in the title) and the commands that install them all:
 * one apt-get for the Debian packages, then each other install command (e.g. npm run …).
 * Plain CommonJS: Jest loads reporters itself, outside ts-jest.
 */
const MARK = /\[skipped: (.+?) not installed; (.+?)\]/;
const APT = /^apt-get install (.+)$/;

/** The closing lines for these test results; empty when nothing was skipped for a missing tool. */
function skipSummary(results) {
  const suites = new Map();
  const packages = new Set();
  const commands = new Set();
  for (const file of results.testResults) {
    for (const test of file.testResults) {
      if (test.status !== 'pending') continue;
      const titles = [...test.ancestorTitles, test.title];
      const marked = titles.find((title) => MARK.test(title));
      if (!marked) continue;
      const [, tools, install] = MARK.exec(marked);
      for (const command of install.split(' && ')) {
        const apt = APT.exec(command);
        if (apt) for (const name of apt[1].split(' ')) packages.add(name);
        else commands.add(command);
      }
      const name = marked.replace(MARK, '').trim();
      const entry = suites.get(name) ?? { tools, tests: 0 };
      entry.tests += 1;
      suites.set(name, entry);
    }
  }
  if (suites.size === 0) return [];
  const total = [...suites.values()].reduce((sum, s) => sum + s.tests, 0);
  return [
    '',
    `Skipped ${total} test${total === 1 ? '' : 's'}: a tool they run is not installed (CI installs it and skips nothing):`,
    ...[...suites].map(([name, { tools, tests }]) => `  - ${name} (${tests} test${tests === 1 ? '' : 's'}; needs ${tools})`),
    ...(packages.size ? [`Install: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${[...packages].sort().join(' ')}`] : []),
    ...[...commands].sort().map((command) => `Install: ${command}`),
    '',
  ];
}

class SkipReporter {
  onRunComplete(_contexts, results) {
    const lines = skipSummary(results);
    if (lines.length === 0) return;
    // Jest's summary reporter always runs last; printing at exit puts this list after it.
    process.once('exit', () => process.stderr.write(`${lines.join('\n')}\n`));
  }
}

module.exports = SkipReporter;
module.exports.skipSummary = skipSummary;
