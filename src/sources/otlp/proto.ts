import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';

/**
 * The OTLP protobuf schema, as the OpenTelemetry JS project compiled it from the official proto
 * definitions (protobufjs static code in `@opentelemetry/otlp-transformer`). It is pinned to
 * 0.208.0: Claude Code's own OTLP exporter is that release (its requests carry the user agent
 * `OTel-OTLP-Exporter-JavaScript/0.208.0`), and releases from 0.217 on replaced the generated
 * module with a hand-written encoder that cannot decode requests.
 */
const require = createRequire(import.meta.url);

interface GeneratedType {
  decode(reader: Uint8Array): object;
  toObject(message: object, options: protobuf.IConversionOptions): Record<string, unknown>;
  fromObject(object: Record<string, unknown>): object;
  encode(message: object): protobuf.Writer;
}

interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        metrics: { v1: { ExportMetricsServiceRequest: GeneratedType; ExportMetricsServiceResponse: GeneratedType } };
        logs: { v1: { ExportLogsServiceRequest: GeneratedType; ExportLogsServiceResponse: GeneratedType } };
      };
    };
  };
}

export type Signal = 'metrics' | 'logs';

interface SignalTypes {
  request: GeneratedType;
  response: GeneratedType;
}

let loaded: Record<Signal, SignalTypes> | null = null;

/** Loaded on the first OTLP request: the generated schema is a few MiB of heap a bridge without telemetry never needs. */
function typesOf(signal: Signal): SignalTypes {
  if (!loaded) {
    const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js') as GeneratedRoot;
    const { collector } = root.opentelemetry.proto;
    loaded = {
      metrics: { request: collector.metrics.v1.ExportMetricsServiceRequest, response: collector.metrics.v1.ExportMetricsServiceResponse },
      logs: { request: collector.logs.v1.ExportLogsServiceRequest, response: collector.logs.v1.ExportLogsServiceResponse },
    };
  }
  return loaded[signal];
}

/**
 * The same shape as the OTLP/JSON encoding: lowerCamelCase names, 64-bit integers as decimal
 * strings, enums as numbers; one reader then serves both encodings.
 */
const AS_OTLP_JSON: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: String, defaults: false, arrays: true };

/** Decodes a binary Export<Signal>ServiceRequest; throws on bytes that are not one. */
export function decodeRequest(signal: Signal, body: Uint8Array): Record<string, unknown> {
  const type = typesOf(signal).request;
  return type.toObject(type.decode(body), AS_OTLP_JSON);
}

/** Encodes an Export<Signal>ServiceRequest from its OTLP/JSON form (tests and tools). */
export function encodeRequest(signal: Signal, request: Record<string, unknown>): Uint8Array {
  const type = typesOf(signal).request;
  return type.encode(type.fromObject(request)).finish();
}

/** What the receiver answers with: rejected items and a message make it a partial success. */
export interface ExportOutcome {
  rejected: number;
  errorMessage: string | null;
}

const REJECTED_FIELD: Record<Signal, string> = { metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords' };

/** The Export<Signal>ServiceResponse as an OTLP/JSON object; `partialSuccess` only when it says something. */
export function responseObject(signal: Signal, outcome: ExportOutcome): Record<string, unknown> {
  if (outcome.rejected === 0 && !outcome.errorMessage) return {};
  return {
    partialSuccess: {
      ...(outcome.rejected > 0 ? { [REJECTED_FIELD[signal]]: String(outcome.rejected) } : {}),
      ...(outcome.errorMessage ? { errorMessage: outcome.errorMessage } : {}),
    },
  };
}

export function encodeResponse(signal: Signal, outcome: ExportOutcome): Uint8Array {
  const type = typesOf(signal).response;
  return type.encode(type.fromObject(responseObject(signal, outcome))).finish();
}

/**
 * google.rpc.Status, the body of every OTLP/HTTP failure. Its two fields used here (code,
 * message) come from google/rpc/status.proto; the generated OTLP module does not include it.
 */
let status: protobuf.Type | null = null;

function statusType(): protobuf.Type {
  status ??= (require('protobufjs') as typeof protobuf).Type.fromJSON('Status', {
    fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } },
  });
  return status;
}

/** gRPC status codes named by the failures the receiver reports (google/rpc/code.proto). */
export const RPC_CODE = { invalidArgument: 3, resourceExhausted: 8, unavailable: 14, unimplemented: 12, permissionDenied: 7 } as const;

export function encodeStatus(code: number, message: string): Uint8Array {
  const type = statusType();
  return type.encode(type.create({ code, message })).finish();
}

export function decodeStatus(body: Uint8Array): { code: number; message: string } {
  return statusType().toObject(statusType().decode(body), { defaults: true }) as { code: number; message: string };
}
