import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type StoredEvent = { id: number; timestamp: number } & Record<string, unknown>;

/** The hooks server's "initial" frame: the 300 newest events by (client) timestamp, ascending. */
export function initialFrameOf(stored: StoredEvent[], window = 300): { type: 'initial'; data: StoredEvent[] } {
  return { type: 'initial', data: byTimestamp(stored).slice(-window) };
}

function byTimestamp(events: StoredEvent[]): StoredEvent[] {
  return [...events].sort((a, b) => a.timestamp - b.timestamp || a.id - b.id);
}

/**
 * A stand-in for the Bun hooks server that follows the recorded protocol on loopback: an
 * `initial` frame on every connect, frames the test pushes, and `GET /events/recent`.
 */
export class FakeHooksServer {
  /** What `GET /events/recent` serves and the default initial frame is made of. */
  stored: StoredEvent[] = [];
  /** Overrides the initial frame of the next connections (raw text), e.g. a recorded fixture. */
  initialFrame: string | null = null;
  recentRequests: string[] = [];
  connections = 0;
  /** `GET /events/recent` answers this status (an older or broken server). */
  recentStatus = 200;
  /** When set, `GET /events/recent` waits for it before answering. */
  recentGate: Promise<void> | null = null;
  private sockets = new Set<WebSocket>();
  private latest: WebSocket | null = null;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
  ) {
    http.on('request', (req, res) => void this.answerHttp(req, res));
    wss.on('connection', (socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      this.latest = socket;
      socket.on('close', () => this.sockets.delete(socket));
      socket.send(this.initialFrame ?? JSON.stringify(initialFrameOf(this.stored)));
    });
  }

  static async start(): Promise<FakeHooksServer> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, path: '/stream' });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new FakeHooksServer(http, wss);
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/stream`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Sends raw text to the newest connection and resolves once it is written. */
  send(text: string): Promise<void> {
    const socket = this.latest;
    if (!socket) throw new Error('no client connected');
    return new Promise((resolve, reject) => socket.send(text, (error) => (error ? reject(error) : resolve())));
  }

  sendEvent(event: StoredEvent): Promise<void> {
    return this.send(JSON.stringify({ type: 'event', data: event }));
  }

  /** Drops every connection abruptly, as a crashing or restarting server does. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async answerHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/events/recent') {
      this.recentRequests.push(url.search);
      if (this.recentGate) await this.recentGate;
      if (this.recentStatus !== 200) {
        res.statusCode = this.recentStatus;
        res.end('Internal Server Error');
        return;
      }
      const limit = Number(url.searchParams.get('limit') ?? '100');
      const rows = byTimestamp(this.stored);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(limit < 0 ? rows : rows.slice(-limit)));
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end('Multi-Agent Observability Server');
  }
}
