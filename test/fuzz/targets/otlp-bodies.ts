import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeRequest, encodeRequest, type Signal } from '../../../src/sources/otlp/proto.js';
import { latestTime, otlpJson, otlpProtobuf, shiftOtlp } from '../../otlp/support.js';
import { fuzzBody } from '../support/mutate.js';

/** The fuzz bridge's clock; every recorded export is moved to end a minute before it. */
export const OTLP_FUZZ_NOW = Date.parse('2026-11-25T16:30:00Z');

/** `otlp.max_body_bytes` of the fuzz bridge: small, so that refusing a large body is tried often and cheaply. */
export const OTLP_FUZZ_BODY_LIMIT = 64 * 1024;

/** What one case posts to the OTLP port. */
export interface OtlpCase {
  path: string;
  /** The signal of the recorded sample the body was made from (the path usually agrees). */
  signal: Signal;
  body: Buffer;
  contentType: string | null;
  contentEncoding?: string;
  /** An unchanged recorded export, sent as recorded: the receiver must take all of it. */
  pristine: boolean;
  /** How the case was made, for a failure's report. */
  made: string;
}

const JSON_SAMPLES: Record<Signal, string[]> = {
  metrics: ['metrics-tool-run.json', 'metrics-tool-run-2.1.332.json', 'metrics-429.json'],
  logs: ['logs-tool-run.json', 'logs-tool-run-2.1.332.json', 'logs-429-retries-exhausted.json'],
};
const PROTOBUF_SAMPLES: Record<Signal, string[]> = {
  metrics: ['ok-metrics.pb', '429-metrics-1.pb', '429-metrics-2.pb'],
  logs: ['ok-logs.pb', '429-logs-1.pb', '429-logs-2.pb'],
};

const SIGNALS: Signal[] = ['metrics', 'logs'];
const ONE_MINUTE = 60_000;

function shiftedJson(name: string): unknown {
  const body = otlpJson(name);
  return shiftOtlp(body, OTLP_FUZZ_NOW - ONE_MINUTE - latestTime(body));
}

/** A recorded binary export, decoded, moved in time and encoded again with the same generated types. */
function shiftedProtobuf(signal: Signal, name: string): Buffer {
  const decoded = decodeRequest(signal, otlpProtobuf(name));
  return Buffer.from(encodeRequest(signal, shiftOtlp(decoded, OTLP_FUZZ_NOW - ONE_MINUTE - latestTime(decoded))));
}

const jsonSamples = Object.fromEntries(SIGNALS.map((s) => [s, JSON_SAMPLES[s].map(shiftedJson)])) as Record<Signal, unknown[]>;
const protobufSamples = Object.fromEntries(SIGNALS.map((s) => [s, PROTOBUF_SAMPLES[s].map((name) => shiftedProtobuf(s, name))])) as Record<Signal, Buffer[]>;

/** Usually the sample's own endpoint; sometimes the other signal's, an unknown one, or one with a query. */
const pathFor = (signal: Signal) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(`/v1/${signal}`) },
    { weight: 2, arbitrary: fc.constant(`/v1/${signal === 'metrics' ? 'logs' : 'metrics'}`) },
    { weight: 1, arbitrary: fc.constantFrom('/v1/traces', '/v1/metrics/', '/v1/logs?x=1', '/', '/v1/%00') },
  );

/** A change to a protobuf body: positions are fractions of its length, so that a case shrinks and stays meaningful. */
type ByteMutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'append-sample'; index: number }
  | { kind: 'varint'; at: number };

const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fraction, byte: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fraction }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fraction, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fraction, length: fc.integer({ min: 1, max: 64 }) }) },
  // Concatenated protobuf messages merge: a valid body, with every repeated field twice.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append-sample' as const), index: fc.nat() }) },
  // A length or varint made huge: the parser must not allocate or read past the end.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('varint' as const), at: fraction }) },
);

function applyByteMutation(body: Buffer, mutation: ByteMutation, samples: Buffer[]): Buffer {
  const at = 'at' in mutation ? Math.floor(mutation.at * body.length) : body.length;
  switch (mutation.kind) {
    case 'set': {
      if (body.length === 0) return body;
      const copy = Buffer.from(body);
      copy[at] = mutation.byte;
      return copy;
    }
    case 'truncate':
      return body.subarray(0, at);
    case 'insert':
      return Buffer.concat([body.subarray(0, at), Buffer.from(mutation.bytes), body.subarray(at)]);
    case 'delete':
      return Buffer.concat([body.subarray(0, at), body.subarray(at + mutation.length)]);
    case 'append-sample':
      return Buffer.concat([body, samples[mutation.index % samples.length]!]);
    case 'varint':
      return Buffer.concat([body.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), body.subarray(at + 1)]);
  }
}

const describeMutations = (mutations: ByteMutation[]) => mutations.map((m) => JSON.stringify(m)).join(' ');

/** Bodies past `otlp.max_body_bytes`: plainly, or only once decompressed (a gzip bomb). */
const oversized = (signal: Signal): fc.Arbitrary<OtlpCase> =>
  fc.constantFrom('plain', 'gzip-bomb').map((how) => {
    const big = Buffer.alloc(OTLP_FUZZ_BODY_LIMIT + 1, 0x20);
    const body = how === 'plain' ? big : gzipSync(big);
    return { path: `/v1/${signal}`, signal, body, contentType: 'application/json', ...(how === 'gzip-bomb' ? { contentEncoding: 'gzip' } : {}), pristine: false, made: `over the limit (${how})` };
  });

const protobufTypes = fc.oneof(
  { weight: 20, arbitrary: fc.constant('application/x-protobuf') },
  { weight: 1, arbitrary: fc.constantFrom('application/json', 'application/protobuf', 'APPLICATION/X-PROTOBUF; proto=x', 'text/plain', null) },
);
const encodings = fc.oneof(
  { weight: 10, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constant('gzip') },
  { weight: 1, arbitrary: fc.constantFrom('deflate', 'br', 'x-unknown', ' GZIP ', 'identity') },
);

/** A body as the exporter compresses it; a small share claims gzip and is not. */
function encode(body: Buffer, encoding: string | undefined, lie: boolean): { body: Buffer; contentEncoding?: string } {
  if (encoding === undefined) return { body };
  const compressed = encoding.trim().toLowerCase() === 'gzip' && !lie ? gzipSync(body) : body;
  return { body: compressed, contentEncoding: encoding };
}

const protobufCase = (signal: Signal): fc.Arbitrary<OtlpCase> =>
  fc
    .tuple(fc.nat(), fc.array(byteMutation, { maxLength: 4 }), pathFor(signal), protobufTypes, encodings, fc.boolean())
    .map(([index, mutations, path, contentType, encoding, lie]) => {
      const samples = protobufSamples[signal];
      const sample = samples[index % samples.length]!;
      const mutated = mutations.reduce((body, m) => applyByteMutation(body, m, samples), sample);
      const sent = encode(mutated, encoding, lie && encoding === 'gzip');
      const pristine = mutations.length === 0 && path === `/v1/${signal}` && contentType === 'application/x-protobuf' && !(lie && encoding === 'gzip') && (encoding === undefined || encoding === 'gzip' || encoding === 'identity');
      return { path, signal, body: sent.body, contentType, ...(sent.contentEncoding ? { contentEncoding: sent.contentEncoding } : {}), pristine, made: `protobuf ${PROTOBUF_SAMPLES[signal][index % samples.length]} ${describeMutations(mutations)}` };
    });

const jsonCase = (signal: Signal): fc.Arbitrary<OtlpCase> =>
  fc.tuple(fuzzBody(jsonSamples[signal]), pathFor(signal), fc.boolean()).map(([body, path, gzip]) => {
    const text = Buffer.from(body.text, 'utf8');
    const compress = gzip && body.contentEncoding === undefined;
    return {
      path,
      signal,
      body: compress ? gzipSync(text) : text,
      contentType: body.contentType,
      ...(compress ? { contentEncoding: 'gzip' } : body.contentEncoding ? { contentEncoding: body.contentEncoding } : {}),
      pristine: false,
      made: `JSON ${body.text.slice(0, 200)}`,
    };
  });

/** Every recorded export unchanged, in both encodings: what Claude Code sends. */
const pristineCase = (signal: Signal): fc.Arbitrary<OtlpCase> =>
  fc.tuple(fc.nat(), fc.boolean()).map(([index, asJson]) => {
    const samples = asJson ? jsonSamples[signal] : protobufSamples[signal];
    const sample = samples[index % samples.length]!;
    const body = asJson ? Buffer.from(JSON.stringify(sample)) : (sample as Buffer);
    return { path: `/v1/${signal}`, signal, body, contentType: asJson ? 'application/json' : 'application/x-protobuf', pristine: true, made: `recorded ${asJson ? 'JSON' : 'protobuf'} ${index % samples.length}` };
  });

export const otlpCases: fc.Arbitrary<OtlpCase> = fc.constantFrom(...SIGNALS).chain((signal) =>
  fc.oneof(
    { weight: 10, arbitrary: protobufCase(signal) },
    { weight: 10, arbitrary: jsonCase(signal) },
    { weight: 2, arbitrary: pristineCase(signal) },
    { weight: 1, arbitrary: oversized(signal) },
  ),
);
