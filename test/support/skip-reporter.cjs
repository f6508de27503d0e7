/**
 * Jest reporter: repeats, as the last lines of `npm test`, every test skipped for a missing tool
 * (the mark test/support/binaries.ts puts in the title) and the one command that installs them all.
 * Plain CommonJS: Jest loads reporters itself, outside ts-jest.
 */
const MARK = /\[skipped: (.+?) not installed; apt-get install (.+?)\]/;
/** A suite that needs something to be started rather than installed (test/support/binaries.ts). */
const RUN_MARK = /\[skipped: (.+?); run: (.+?)\]/;

class SkipReporter {
  onRunComplete(_contexts, results) {
    const suites = new Map();
    const started = new Map();
    const packages = new Set();
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status !== 'pending') continue;
        const titles = [...test.ancestorTitles, test.title];
        const marked = titles.find((title) => MARK.test(title));
        const toStart = titles.find((title) => RUN_MARK.test(title));
        if (marked) {
          const [, tools, install] = MARK.exec(marked);
          for (const name of install.split(' ')) packages.add(name);
          count(suites, marked.replace(MARK, '').trim(), tools);
        } else if (toStart) {
          const [, problem, command] = RUN_MARK.exec(toStart);
          count(started, toStart.replace(RUN_MARK, '').trim(), problem, command);
        }
      }
    }
    if (suites.size === 0 && started.size === 0) return;
    const lines = [''];
    if (suites.size > 0) {
      lines.push(
        `Skipped ${total(suites)}: a tool they run is not installed (CI installs it and skips nothing):`,
        ...[...suites].map(([name, { reason, tests }]) => `  - ${name} (${plural(tests)}; needs ${reason})`),
        `Install: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${[...packages].sort().join(' ')}`,
      );
    }
    if (started.size > 0) {
      lines.push(
        `Skipped ${total(started)}: what they run is not there (CI starts it and skips nothing):`,
        ...[...started].map(([name, { reason, tests }]) => `  - ${name} (${plural(tests)}; ${reason})`),
        ...[...new Set([...started.values()].map((entry) => entry.command))].map((command) => `Run: ${command}`),
      );
    }
    lines.push('');
    // Jest's summary reporter always runs last; printing at exit puts this list after it.
    process.once('exit', () => process.stderr.write(`${lines.join('\n')}\n`));
  }
}

function count(map, name, reason, command) {
  const entry = map.get(name) ?? { reason, command, tests: 0 };
  entry.tests += 1;
  map.set(name, entry);
}

function plural(tests) {
  return `${tests} test${tests === 1 ? '' : 's'}`;
}

function total(map) {
  return plural([...map.values()].reduce((sum, entry) => sum + entry.tests, 0));
}

module.exports = SkipReporter;
