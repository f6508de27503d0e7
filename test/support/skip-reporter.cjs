/**
 * Jest reporter: repeats, as the last lines of `npm test`, every test skipped for a missing tool
 * (the mark test/support/binaries.ts puts in the title) and the commands that install them all:
 * one apt-get for the Debian packages, then each other install command (e.g. npm run …); and the
 * tests skipped because something must be started first (e.g. the container engine), with the
 * command that starts it. Plain CommonJS: Jest loads reporters itself, outside ts-jest.
 */
const MARK = /\[skipped: (.+?) not installed; (.+?)\]/;
/** A suite that needs something to be started rather than installed. */
const RUN_MARK = /\[skipped: (.+?); run: (.+?)\]/;
const APT = /^apt-get install (.+)$/;

/** The closing lines for these test results; empty when nothing was skipped for a missing tool. */
function skipSummary(results) {
  const suites = new Map();
  const started = new Map();
  const packages = new Set();
  const commands = new Set();
  for (const file of results.testResults) {
    for (const test of file.testResults) {
      if (test.status !== 'pending') continue;
      const titles = [...test.ancestorTitles, test.title];
      const marked = titles.find((title) => MARK.test(title));
      const toStart = titles.find((title) => RUN_MARK.test(title));
      if (marked) {
        const [, tools, install] = MARK.exec(marked);
        for (const command of install.split(' && ')) {
          const apt = APT.exec(command);
          if (apt) for (const name of apt[1].split(' ')) packages.add(name);
          else commands.add(command);
        }
        count(suites, marked.replace(MARK, '').trim(), `needs ${tools}`);
      } else if (toStart) {
        const [, problem, command] = RUN_MARK.exec(toStart);
        count(started, toStart.replace(RUN_MARK, '').trim(), problem, command);
      }
    }
  }
  if (suites.size === 0 && started.size === 0) return [];
  const lines = [''];
  if (suites.size > 0) {
    lines.push(
      `Skipped ${total(suites)}: a tool they run is not installed (CI installs it and skips nothing):`,
      ...[...suites].map(([name, { reason, tests }]) => `  - ${name} (${plural(tests)}; ${reason})`),
      ...(packages.size ? [`Install: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${[...packages].sort().join(' ')}`] : []),
      ...[...commands].sort().map((command) => `Install: ${command}`),
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
  return lines;
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
