import fc from 'fast-check';

/**
 * Generators of hostile input, seeded from recorded samples: a real body with a few of its parts
 * replaced, removed, re-typed or added is what reaches the parsers' deep branches; arbitrary JSON
 * and arbitrary text cover the rest. Every mutation is a plain value fast-check can shrink.
 */

const FAR_FUTURE_MS = 8_640_000_000_000_001; // one past the last instant a Date can hold

/** Values that broke (issue 10) or could break an input handler. */
const HOSTILE_CONSTANTS: unknown[] = [
  null, true, false, 0, -0, -1, 0.5, 1e13, 1e16, 1e300, -1e300, FAR_FUTURE_MS, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, 2 ** 31, -(2 ** 31),
  '', ' ', '   ', 'null', 'true', '0', '-1', '1e400', 'NaN', 'Infinity', '2026-13-45T99:99:99Z', '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.001Z', '2026-11-25T12:00:00Z', '\u0000', '\ud800', '\u202e', '../../etc/passwd', '%00', '<script>', '__proto__',
  'constructor', 'rate_limit', 'PreToolUse', 'firing', 'resolved', [], {}, [null], { __proto__: null }, { constructor: { prototype: {} } },
  // Objects that cannot become a primitive: Number(), String() or a template literal on them throws (the OTLP receiver's 500).
  { toString: '' }, { valueOf: 1, toString: null }, [{ toString: 1 }],
];

/** Object keys worth adding: prototype names and the keys the bridge reads anywhere. */
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''];

/** A value nested `depth` levels deep (built without recursion, as a hostile sender would). */
export function nested(depth: number, asArray: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = asArray ? [value] : { a: value };
  return value;
}

const longString = fc.integer({ min: 1_000, max: 100_000 }).map((n) => 'x'.repeat(n));
const manyKeys = fc.integer({ min: 100, max: 2_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
const longArray = fc.integer({ min: 100, max: 5_000 }).map((n) => Array.from({ length: n }, (_, i) => i));

const smallValues = [
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_CONSTANTS) },
  { weight: 3, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.double() },
  { weight: 3, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
];

/** Small hostile values: wrong types, out-of-range numbers and times, odd strings. */
export const smallHostileValue: fc.Arbitrary<unknown> = fc.oneof(...smallValues);

/** Those, and large ones: deep nesting, long strings, many keys, long arrays. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  ...smallValues,
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 30, max: 400 }), fc.boolean()).map(([d, a]) => nested(d, a)) },
  { weight: 1, arbitrary: longString },
  { weight: 1, arbitrary: manyKeys },
  { weight: 1, arbitrary: longArray },
);

type Path = (string | number)[];

/** Every path into a value, the root first: at most 5,000, at most 64 deep (a cycle, as YAML aliases can make, is cut there). */
export function pathsOf(value: unknown): Path[] {
  const out: Path[] = [];
  const stack: [unknown, Path][] = [[value, []]];
  while (stack.length > 0 && out.length < 5_000) {
    const [current, path] = stack.pop()!;
    out.push(path);
    if (current === null || typeof current !== 'object' || path.length >= 64) continue;
    if (Array.isArray(current)) current.forEach((child, i) => stack.push([child, [...path, i]]));
    else for (const [k, child] of Object.entries(current)) stack.push([child, [...path, k]]);
  }
  return out;
}

function getAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const step of path) current = (current as Record<string | number, unknown>)[step];
  return current;
}

/** A copy of `value` with the node at `path` replaced (undefined removes it). */
function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [step, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const index = step as number;
    if (rest.length === 0 && replacement === undefined) copy.splice(index, 1);
    else copy[index] = setAt(copy[index], rest, replacement);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const key = step as string;
  if (rest.length === 0 && replacement === undefined) delete copy[key];
  else Object.defineProperty(copy, key, { value: setAt(copy[key], rest, replacement), enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Sets an own property, `__proto__` included (so that JSON.stringify writes it). */
function withKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...target };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

export type Mutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'remove'; at: number }
  | { kind: 'add-key'; at: number; key: string; value: unknown }
  | { kind: 'wrap-in-array'; at: number }
  | { kind: 'as-string'; at: number }
  | { kind: 'graft'; at: number; from: number };

function mutationArbitrary(keys: string[], hostile: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> {
  const at = fc.nat();
  const key = fc.oneof(fc.constantFrom(...keys, ...HOSTILE_KEYS), fc.string({ maxLength: 20 }));
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), at, value: hostile }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), at }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('add-key' as const), at, key, value: hostile }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap-in-array' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('as-string' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('graft' as const), at, from: fc.nat() }) },
  );
}

export function applyMutation(value: unknown, mutation: Mutation): unknown {
  const paths = pathsOf(value);
  const path = paths[mutation.at % paths.length]!;
  const node = getAt(value, path);
  switch (mutation.kind) {
    case 'replace':
      return setAt(value, path, mutation.value);
    case 'remove':
      return path.length === 0 ? {} : setAt(value, path, undefined);
    case 'add-key': {
      if (node === null || typeof node !== 'object' || Array.isArray(node)) return setAt(value, path, withKey({}, mutation.key, mutation.value));
      return setAt(value, path, withKey(node as Record<string, unknown>, mutation.key, mutation.value));
    }
    case 'wrap-in-array':
      return setAt(value, path, [node]);
    case 'as-string':
      return setAt(value, path, JSON.stringify(node) ?? 'undefined');
    case 'graft':
      return setAt(value, path, getAt(value, paths[mutation.from % paths.length]!));
  }
}

/** Every object key in the samples: added back with hostile values, they reach the fields the code reads. */
export function keysOf(samples: unknown[]): string[] {
  const keys = new Set<string>();
  for (const sample of samples) {
    for (const path of pathsOf(sample)) {
      const last = path[path.length - 1];
      if (typeof last === 'string') keys.add(last);
    }
  }
  return [...keys].sort();
}

/** A sample with 1–`max` mutations applied; `mutations: 0` cases (the sample as recorded) are generated too. */
export function mutatedValue(samples: unknown[], max = 4, hostile = hostileValue): fc.Arbitrary<unknown> {
  const mutation = mutationArbitrary(keysOf(samples), hostile);
  return fc
    .tuple(fc.constantFrom(...samples), fc.array(mutation, { minLength: 0, maxLength: max }))
    .map(([sample, mutations]) => mutations.reduce<unknown>(applyMutation, sample));
}

export type TextMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'number-token'; at: number; token: string }
  | { kind: 'duplicate-key'; at: number }
  | { kind: 'surround'; before: string; after: string };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', '\ufeff', '/*', 'NaN')) }),
  fc.record({ kind: fc.constant('number-token' as const), at: fc.nat(), token: fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '01', '0x10', '.5', '1.', '+1', '9'.repeat(400)) }),
  fc.record({ kind: fc.constant('duplicate-key' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('surround' as const), before: fc.constantFrom('', ' ', '\ufeff', '\n\n', '[', 'x'), after: fc.constantFrom('', ' ', '\n', ']', '}', ',', 'x') }),
);

export function applyTextMutation(text: string, mutation: TextMutation): string {
  switch (mutation.kind) {
    case 'truncate':
      return text.slice(0, mutation.at % (text.length + 1));
    case 'insert': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'number-token': {
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      const hit = numbers[mutation.at % Math.max(1, numbers.length)];
      if (!hit || hit.index === undefined) return text;
      return text.slice(0, hit.index) + mutation.token + text.slice(hit.index + hit[0].length);
    }
    case 'duplicate-key': {
      const keys = [...text.matchAll(/"([^"\\]{1,40})":/g)];
      const hit = keys[mutation.at % Math.max(1, keys.length)];
      if (!hit || hit.index === undefined) return text;
      return `${text.slice(0, hit.index)}"${hit[1]}":null,${text.slice(hit.index)}`;
    }
    case 'surround':
      return mutation.before + text + mutation.after;
  }
}

/**
 * What a fuzz case sends. `value` is set when `text` is exactly its JSON, so a target's oracle
 * can judge the parsed body; otherwise the text is whatever the mutations left.
 */
export interface FuzzBody {
  text: string;
  value?: unknown;
  contentType: string | null;
  contentEncoding?: string;
}

const contentTypes = fc.oneof(
  { weight: 40, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/vnd.api+json', 'APPLICATION/JSON') },
  { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', '', null) },
);

/** Bodies for an HTTP input: mutated samples (mostly), then mutated text, arbitrary JSON, arbitrary text. */
export function fuzzBody(samples: unknown[]): fc.Arbitrary<FuzzBody> {
  const asJson = (value: unknown, contentType: string | null): FuzzBody => ({ text: JSON.stringify(value) ?? 'null', value, contentType });
  return fc.oneof(
    { weight: 24, arbitrary: fc.tuple(mutatedValue(samples), contentTypes).map(([value, type]) => asJson(value, type)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(mutatedValue(samples, 2), fc.array(textMutation, { minLength: 1, maxLength: 3 }), contentTypes)
        .map(([value, mutations, type]) => ({ text: mutations.reduce(applyTextMutation, JSON.stringify(value) ?? 'null'), contentType: type })),
    },
    { weight: 4, arbitrary: fc.tuple(fc.jsonValue(), contentTypes).map(([value, type]) => asJson(value, type)) },
    { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'binary', maxLength: 200 }), contentTypes).map(([text, type]) => ({ text, contentType: type })) },
    // Past the 1 MB limit of the ordinary endpoints (not of /events and /hooks).
    { weight: 1, arbitrary: fc.constantFrom(...samples).map((sample) => asJson({ ...(sample as object), padding: 'x'.repeat(1_100_000) }, 'application/json')) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(mutatedValue(samples, 1), fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'))
        .map(([value, encoding]) => ({ text: JSON.stringify(value) ?? 'null', contentType: 'application/json', contentEncoding: encoding })),
    },
  );
}
