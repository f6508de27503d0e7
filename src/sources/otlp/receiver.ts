import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { PayloadError } from './payload.js';
import { decodeRequest, encodeResponse, encodeStatus, responseObject, RPC_CODE, type ExportOutcome, type Signal } from './proto.js';

const gunzipAsync = promisify(gunzip);

export const OTLP_PATHS: Record<string, Signal> = { '/v1/metrics': 'metrics', '/v1/logs': 'logs' };
type Encoding = 'json' | 'protobuf';
const CONTENT_TYPES: Record<string, Encoding> = { 'application/json': 'json', 'application/x-protobuf': 'protobuf' };
const RESPONSE_TYPES: Record<Encoding, string> = { json: 'application/json', protobuf: 'application/x-protobuf' };

export interface ReceiverOptions {
  host: string;
  port: number;
  /** Largest body accepted, after decompression (the OTLP/HTTP specification recommends 20 MiB). */
  maxBodyBytes: number;
  logger: Logger;
  /** Takes a decoded request (OTLP/JSON shape); throws PayloadError for a malformed one. */
  handle(signal: Signal, request: unknown): ExportOutcome;
  /** Each answered export, for metrics and /health. */
  onExport(signal: Signal, status: number, outcome: ExportOutcome | null, error: string | null): void;
}

/** A failure answered with a google.rpc.Status body in the request's encoding. */
class ExportFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * OTLP/HTTP on its own port: `POST /v1/metrics` and `POST /v1/logs`, binary protobuf or JSON,
 * gzip or not, answered as the OTLP/HTTP specification says (200 with an Export*ServiceResponse,
 * partial success when some items were unusable; 400 malformed; 413 too large; 415 unsupported
 * type or encoding; 503, retryable, only while the bridge is stopping). gRPC is not served.
 * A request carrying an Origin header came from a web page, never from an exporter: refused.
 */
export class OtlpReceiver {
  private server: Server | null = null;
  private stopping = false;

  constructor(private readonly options: ReceiverOptions) {}

  async start(): Promise<AddressInfo> {
    this.stopping = false;
    const server = createServer((req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.options.logger.error('OTLP receiver error', { error: errorMessage(error) }));
    this.server = server;
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const signal = OTLP_PATHS[path];
    const encoding = CONTENT_TYPES[mediaType(req.headers['content-type'])];
    try {
      if (!signal) throw new ExportFailure(404, RPC_CODE.unimplemented, `no OTLP endpoint at ${path}: the bridge takes POST /v1/metrics and POST /v1/logs (traces are not used)`);
      if (req.method !== 'POST') throw new ExportFailure(405, RPC_CODE.unimplemented, `${path} takes POST only`, { Allow: 'POST' });
      if (req.headers.origin !== undefined) throw new ExportFailure(403, RPC_CODE.permissionDenied, 'requests from web pages are refused');
      if (!encoding) {
        throw new ExportFailure(415, RPC_CODE.invalidArgument, `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/x-protobuf or application/json`);
      }
      this.refuseWhileStopping();
      const body = await this.readBody(req);
      this.refuseWhileStopping();
      const request = decode(signal, encoding, body);
      const outcome = this.options.handle(signal, request);
      this.options.onExport(signal, 200, outcome, null);
      send(res, 200, encoding, encoding === 'json' ? JSON.stringify(responseObject(signal, outcome)) : encodeResponse(signal, outcome));
    } catch (error) {
      const failure = asFailure(error);
      if (failure.status === 500) this.options.logger.error('OTLP export failed', { path, error: errorMessage(error) });
      if (signal) this.options.onExport(signal, failure.status, null, failure.message);
      if (failure.status === 413 || failure.status === 503) res.setHeader('Connection', 'close');
      for (const [name, value] of Object.entries(failure.headers)) res.setHeader(name, value);
      const as = encoding ?? 'json';
      send(res, failure.status, as, as === 'json' ? JSON.stringify({ code: failure.code, message: failure.message }) : encodeStatus(failure.code, failure.message));
      req.resume(); // discard what is left of a refused body
    }
  }

  /** Retryable: the same export succeeds against the bridge once it is back. */
  private refuseWhileStopping(): void {
    if (this.stopping) throw new ExportFailure(503, RPC_CODE.unavailable, 'the bridge is stopping; retry later', { 'Retry-After': '5' });
  }

  /** The body, decompressed, at most maxBodyBytes either way. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.options.maxBodyBytes;
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'gzip' && contentEncoding !== 'identity') {
      throw new ExportFailure(415, RPC_CODE.invalidArgument, `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send gzip or none`);
    }
    const tooLarge = () => new ExportFailure(413, RPC_CODE.resourceExhausted, `request body larger than ${limit} bytes (otlp.max_body_bytes)`);
    if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
    const raw = await readCapped(req, limit, tooLarge);
    if (contentEncoding === 'identity') return raw;
    try {
      return await gunzipAsync(raw, { maxOutputLength: limit });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw new ExportFailure(400, RPC_CODE.invalidArgument, `the body is not valid gzip: ${errorMessage(error)}`);
    }
  }
}

function decode(signal: Signal, encoding: Encoding, body: Buffer): unknown {
  if (encoding === 'json') {
    try {
      return body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
    } catch (error) {
      throw new ExportFailure(400, RPC_CODE.invalidArgument, `the body is not valid JSON: ${errorMessage(error)}`);
    }
  }
  try {
    return decodeRequest(signal, body);
  } catch (error) {
    throw new ExportFailure(400, RPC_CODE.invalidArgument, `the body is not a protobuf Export${signal === 'metrics' ? 'Metrics' : 'Logs'}ServiceRequest: ${errorMessage(error)}`);
  }
}

function readCapped(req: IncomingMessage, limit: number, tooLarge: () => ExportFailure): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!failed) reject(new ExportFailure(400, RPC_CODE.invalidArgument, `the request body could not be read: ${errorMessage(error)}`));
    });
  });
}

function asFailure(error: unknown): ExportFailure {
  if (error instanceof ExportFailure) return error;
  if (error instanceof PayloadError) return new ExportFailure(400, RPC_CODE.invalidArgument, `malformed OTLP request: ${error.message}`);
  return new ExportFailure(500, RPC_CODE.unavailable, 'internal error');
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

function send(res: ServerResponse, status: number, encoding: Encoding, body: string | Uint8Array): void {
  res.statusCode = status;
  res.setHeader('Content-Type', RESPONSE_TYPES[encoding]);
  res.end(body);
}
