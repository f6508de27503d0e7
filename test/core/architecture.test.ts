import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/binaries.js';

/**
 * Data flows one way: sources → state and metrics → alerts → recovery → decisions served over
 * HTTP. This test reads every import in src/ and fails on one that goes against that direction.
 */
const SRC = path.join(REPO_ROOT, 'src');

/** [importing files, the files or folders they must not import, why]. */
const RULES: [string, string[], string][] = [
  ['sources/', ['http/', 'recovery/', 'bridge.ts', 'alerts/', 'cli/'], 'a source reports facts and signals; it never decides or serves decisions'],
  ['recovery/', ['sources/', 'http/', 'bridge.ts', 'cli/'], 'recovery knows alerts, not where the figures came from nor how decisions are served'],
  ['alerts/', ['sources/', 'http/', 'bridge.ts', 'cli/'], 'alerts read signals through the component contract'],
  ['metrics/', ['sources/', 'http/', 'recovery/', 'alerts/', 'bridge.ts', 'cli/'], 'metrics helpers are used by every layer'],
  ['config/', ['sources/', 'http/', 'recovery/', 'alerts/', 'metrics/', 'bridge.ts', 'cli/'], 'config is the bottom layer'],
  ['util/', ['sources/', 'http/', 'recovery/', 'alerts/', 'metrics/', 'config/', 'bridge.ts', 'cli/'], 'util is the bottom layer'],
  ['component.ts', ['sources/', 'http/', 'recovery/', 'alerts/', 'bridge.ts', 'cli/'], 'the contract names no particular component'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module a file imports (static, dynamic and type-only), as a path relative to src/. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => path.relative(SRC, path.resolve(path.dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

function violations(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = path.relative(SRC, file);
    for (const [layer, forbidden, why] of RULES) {
      if (!from.startsWith(layer)) continue;
      for (const target of importsOf(file)) {
        if (forbidden.some((f) => target === f || target.startsWith(f))) found.push(`${from} imports ${target}: ${why}`);
      }
    }
  }
  return found;
}

describe('the direction of the data flow', () => {
  it('no module imports against it', () => {
    expect(violations()).toEqual([]);
  });

  it('reads the imports it checks (a broken reader would pass anything)', () => {
    expect(importsOf(path.join(SRC, 'http', 'routes-hooks.ts'))).toEqual(expect.arrayContaining(['recovery/decide.ts', 'sources/hooks/hook-input.ts', 'component.ts']));
    expect(importsOf(path.join(SRC, 'bridge.ts'))).toEqual(expect.arrayContaining(['alerts/evaluator.ts', 'http/app.ts', 'recovery/controller.ts']));
  });
});
