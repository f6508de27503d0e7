import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parseDocument, parse as parseYaml, stringify as toYaml } from 'yaml';
import { ConfigError, loadConfig, validateConfig } from '../../../src/config/index.js';
import { readRepoFile } from '../../support/binaries.js';
import { applyTextMutation, mutatedValue, pathsOf, smallHostileValue, type TextMutation } from '../support/mutate.js';
import { fuzzTarget } from '../support/settings.js';

/** The repository's config.yaml (every key, with its default) and a few short files people write. */
const SHIPPED = readRepoFile('config.yaml');
const SAMPLES: unknown[] = [
  parseYaml(SHIPPED),
  {},
  { server: { port: 9090, allowed_hosts: ['bridge'] } },
  { auth: { token: 'a-token-of-sixteen-or-more' }, alerting: { mode: 'both' } },
  { recovery: { backoff: { base_s: 2, cap_s: 64 }, degradation: { deny_tools: ['Task', 'mcp__web'] } }, usage: { token_limit: 'p90' } },
];

/** YAML that the JSON-shaped mutations cannot make: aliases, tags, merge keys, directives, other documents. */
const YAML_SNIPPETS = [
  'loop: &a [*a]',
  'loop: &b {self: *b}',
  '<<: *missing',
  '<<: {port: 1}',
  'port: !!binary aGVsbG8=',
  'port: !!str 8080',
  'port: !!int "eighty"',
  'port: !!float .inf',
  'when: !!timestamp 2001-12-14t21:59:43.10-05:00',
  'set: !!set {a, b}',
  'omap: !!omap [a: 1, b: 2]',
  'fn: !!js/function "function () { return 1 }"',
  'tagged: !custom value',
  'port: 0x1F90',
  'port: 0o17620',
  'port: 8_080',
  'port: .nan',
  'port: ~',
  'port: 1e400',
  'enabled: yes',
  'enabled: on',
  '? [a, b]\n: complex key',
  'key: "unterminated',
  'a: b: c',
  '- a list item',
  '&lonely',
  '*lonely',
  '\tport: 1',
  '__proto__: {polluted: true}',
  'constructor: {prototype: {polluted: true}}',
  `${'k'.repeat(5000)}: 1`,
  `laughs0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n${Array.from({ length: 8 }, (_, i) => `laughs${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`).join('\n')}`,
];
const DIRECTIVES = ['', '%YAML 1.1\n---\n', '%YAML 1.2\n---\n', '%TAG ! tag:example.com,2000:\n---\n', '--- !!map\n', '---\n'];

type ConfigInput = { kind: 'structured' | 'text' | 'arbitrary'; yaml: string };

interface Insertion {
  line: number;
  snippet: string;
  indent: boolean;
}

const insertion: fc.Arbitrary<Insertion> = fc.record({ line: fc.nat(), snippet: fc.constantFrom(...YAML_SNIPPETS), indent: fc.boolean() });

/** Inserts a snippet before a line, indented like that line (or not). */
function insertSnippet(text: string, { line, snippet, indent }: Insertion): string {
  const lines = text.split('\n');
  const at = line % (lines.length + 1);
  const margin = indent ? (/^\s*/.exec(lines[at] ?? '')?.[0] ?? '') : '';
  lines.splice(at, 0, ...snippet.split('\n').map((l) => margin + l));
  return lines.join('\n');
}

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', '- ', '  ', '\t', '&x ', '*x', '!!', '"', "'", '#', '{', '[', '|', '>', '\n')) }),
  fc.record({ kind: fc.constant('number-token' as const), at: fc.nat(), token: fc.constantFrom('1e400', '-1', '0', '1e300', '0.5', '99999999999999999999', 'null', '"8080"', '[]', '{}') }),
);

const configInput: fc.Arbitrary<ConfigInput> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(mutatedValue(SAMPLES, 4, smallHostileValue), fc.constantFrom(...DIRECTIVES)).map(([doc, directive]) => ({ kind: 'structured' as const, yaml: directive + toYaml(doc) })),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(insertion, { maxLength: 3 }), fc.array(textMutation, { maxLength: 3 }), fc.constantFrom(...DIRECTIVES))
      .map(([inserts, mutations, directive]) => ({
        kind: 'text' as const,
        yaml: directive + mutations.reduce(applyTextMutation, inserts.reduce(insertSnippet, SHIPPED)),
      })),
  },
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.jsonValue().map((v) => toYaml(v))).map((yaml) => ({ kind: 'arbitrary' as const, yaml })) },
);

/** Every key path of a parsed document (the root apart), dotted as the loader names them; `""` is a key too. */
function keyPaths(text: string): Set<string> {
  const doc = parseDocument(text, { uniqueKeys: false });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return new Set();
  }
  return new Set(pathsOf(value).flatMap((p) => (p.length > 0 ? [p.join('.')] : [])));
}

let dir: string | null = null;

/**
 * The config loader: a mutated file either loads as a valid config or fails with a ConfigError
 * for that file whose every problem is a YAML problem or names a key of the file; no other
 * exception, no hang, and nothing leaks onto Object.prototype.
 */
export const configTarget = fuzzTarget<ConfigInput>({
  name: 'config loader (mutated YAML files)',
  input: configInput,
  check({ yaml }) {
    dir ??= mkdtempSync(path.join(tmpdir(), 'bridge-config-fuzz-'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, yaml);
    let outcome: { config: unknown } | { error: unknown };
    try {
      outcome = { config: loadConfig({ configPath: file }, {}, dir).config };
    } catch (error) {
      outcome = { error };
    }
    if ((Object.prototype as Record<string, unknown>).polluted !== undefined) throw new Error('the file polluted Object.prototype');
    if ('config' in outcome) {
      validateConfig(structuredClone(outcome.config), 'the loaded config, again'); // what loaded is a valid config
      return;
    }
    const { error } = outcome;
    if (!(error instanceof ConfigError)) throw new Error(`not a ConfigError: ${(error as Error)?.stack ?? String(error)}`);
    if (error.source !== file || !error.message.includes(file)) throw new Error(`the error does not name the file: ${error.message}`);
    if (error.problems.length === 0) throw new Error('a ConfigError without problems');
    const paths = keyPaths(yaml);
    for (const problem of error.problems) {
      const namesKey = [...problem.matchAll(/: |, /g)].some((m) => paths.has(problem.slice(0, m.index)));
      if (!namesKey && !/^(YAML( syntax)?: |\(top level\): )/.test(problem)) throw new Error(`a problem that names no key of the file: ${problem}`);
    }
  },
  cleanup() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  },
});
