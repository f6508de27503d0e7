import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** Receives the server's first WebSocket message (its replay) piece by piece, as it streams in. */
export interface ReplaySink {
  chunk(data: Buffer): void;
  /** `complete` is false when the connection ended in the middle of it. */
  end(complete: boolean): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const SWITCHING_PROTOCOLS = /^HTTP\/1\.[01] 101 /;

type State = 'http' | 'frames' | 'through';

/**
 * The hooks server sends its replay (`initial`, the newest 300 events with their chat
 * transcripts: megabytes, possibly above any sane frame limit) as the first message after the
 * handshake. The `ws` client would hold it whole, or close with 1009 above `maxPayload` and the
 * next connection would get the same frame again. So the socket under `ws` is this stream: it
 * passes the handshake and every other frame through unchanged, and hands the first data message's
 * payload to `sink` as it arrives instead (server frames are unmasked, and the client offers no
 * compression, so payload bytes are the message's text). `ws` never sees that message.
 */
export class ReplayInterceptor extends Duplex {
  private state: State = 'http';
  private httpTail = Buffer.alloc(0);
  /** The start of the handshake answer, for its status line. */
  private statusLine = '';
  private header = Buffer.alloc(0);
  /** Bytes of the current frame's payload still to come, and where they go. */
  private remaining = 0;
  private payloadTo: 'ws' | 'sink' = 'ws';
  private finalReplayFrame = false;
  private mask: Buffer | null = null;
  private masked = 0;
  private replayOpen = true;

  constructor(
    private readonly inner: net.Socket,
    private readonly sink: ReplaySink,
  ) {
    super();
    inner.on('data', (data: Buffer) => this.onData(data));
    inner.on('end', () => this.push(null));
    inner.on('error', (error) => this.destroy(error));
    inner.on('close', () => {
      this.endReplay(false);
      this.destroy();
    });
    for (const event of ['connect', 'secureConnect', 'timeout', 'ready']) inner.on(event, () => this.emit(event));
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.inner.setTimeout(ms, callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.inner.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.inner.setKeepAlive(enable, delay);
    return this;
  }

  ref(): this {
    this.inner.ref();
    return this;
  }

  unref(): this {
    this.inner.unref();
    return this;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.endReplay(false);
    this.inner.destroy();
    callback(error);
  }

  private onData(data: Buffer): void {
    let rest: Buffer = data;
    while (rest.length > 0) {
      if (this.state === 'through') {
        this.pass(rest);
        return;
      }
      rest = this.state === 'http' ? this.readHttp(rest) : this.readFrames(rest);
    }
  }

  /** The handshake answer passes through; frames start after its blank line (only on a 101). */
  private readHttp(data: Buffer): Buffer {
    if (this.statusLine.length < 16) this.statusLine += data.subarray(0, 16 - this.statusLine.length).toString('latin1');
    const seen = Buffer.concat([this.httpTail, data]);
    const end = seen.indexOf(HEADER_END);
    if (end === -1) {
      this.pass(data);
      this.httpTail = seen.subarray(Math.max(0, seen.length - 3));
      return Buffer.alloc(0);
    }
    const headerBytesInData = end + HEADER_END.length - this.httpTail.length;
    const upgraded = SWITCHING_PROTOCOLS.test(this.statusLine);
    this.pass(data.subarray(0, headerBytesInData));
    this.httpTail = Buffer.alloc(0);
    this.state = upgraded ? 'frames' : 'through';
    if (!upgraded) this.endReplay(false);
    return data.subarray(headerBytesInData);
  }

  private readFrames(data: Buffer): Buffer {
    if (this.remaining > 0) return this.readPayload(data);
    const header = Buffer.concat([this.header, data]);
    const parsed = parseFrameHeader(header);
    if (!parsed) {
      this.header = header;
      return Buffer.alloc(0);
    }
    this.header = Buffer.alloc(0);
    const fromData = parsed.headerLength - (header.length - data.length);
    const isData = parsed.opcode < 8;
    this.payloadTo = isData && this.replayOpen ? 'sink' : 'ws';
    if (this.payloadTo === 'ws') this.pass(header.subarray(0, parsed.headerLength));
    this.finalReplayFrame = isData && parsed.fin;
    this.mask = parsed.mask;
    this.masked = 0;
    this.remaining = parsed.payloadLength;
    if (this.remaining === 0) this.frameDone();
    return data.subarray(fromData);
  }

  private readPayload(data: Buffer): Buffer {
    const take = Math.min(this.remaining, data.length);
    const piece = data.subarray(0, take);
    this.remaining -= take;
    if (this.payloadTo === 'ws') this.pass(piece);
    else if (take > 0) this.sink.chunk(this.unmask(piece));
    if (this.remaining === 0) this.frameDone();
    return data.subarray(take);
  }

  private frameDone(): void {
    if (this.payloadTo === 'sink' && this.finalReplayFrame) {
      this.endReplay(true);
      this.state = 'through';
    }
  }

  private unmask(piece: Buffer): Buffer {
    if (!this.mask) return piece;
    const out = Buffer.from(piece);
    for (let i = 0; i < out.length; i++) out[i]! ^= this.mask[(this.masked + i) & 3]!;
    this.masked += out.length;
    return out;
  }

  private endReplay(complete: boolean): void {
    if (!this.replayOpen) return;
    this.replayOpen = false;
    this.sink.end(complete);
  }

  private pass(data: Buffer): void {
    if (data.length > 0 && !this.push(data)) this.inner.pause();
  }
}

interface FrameHeader {
  fin: boolean;
  opcode: number;
  headerLength: number;
  payloadLength: number;
  mask: Buffer | null;
}

/** RFC 6455 §5.2; null until the whole header is there. */
function parseFrameHeader(bytes: Buffer): FrameHeader | null {
  if (bytes.length < 2) return null;
  const fin = (bytes[0]! & 0x80) !== 0;
  const opcode = bytes[0]! & 0x0f;
  const masked = (bytes[1]! & 0x80) !== 0;
  const short = bytes[1]! & 0x7f;
  const extended = short === 126 ? 2 : short === 127 ? 8 : 0;
  const headerLength = 2 + extended + (masked ? 4 : 0);
  if (bytes.length < headerLength) return null;
  let payloadLength = short;
  if (short === 126) payloadLength = bytes.readUInt16BE(2);
  else if (short === 127) payloadLength = bytes.readUInt32BE(2) * 2 ** 32 + bytes.readUInt32BE(6);
  const mask = masked ? Buffer.from(bytes.subarray(2 + extended, headerLength)) : null;
  return { fin, opcode, headerLength, payloadLength, mask };
}

/** A `createConnection` for `ws` that puts a ReplayInterceptor under it (plain or TLS, as the URL says). */
export function interceptingConnection(secure: boolean, sink: ReplaySink) {
  return (options: net.NetConnectOpts & tls.ConnectionOptions & { socketPath?: string; host?: string }): Duplex => {
    let socket: net.Socket;
    if (secure) {
      const servername = options.servername ?? (options.host && !net.isIP(options.host) ? options.host : undefined);
      socket = tls.connect({ ...options, path: undefined, ...(servername ? { servername } : {}) } as tls.ConnectionOptions);
    } else {
      socket = net.connect({ ...options, ...(options.socketPath ? { path: options.socketPath } : {}) } as net.NetConnectOpts);
    }
    return new ReplayInterceptor(socket, sink);
  };
}
