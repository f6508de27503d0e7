import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type StoredEvent = { id: number; timestamp: number } & Record<string, unknown>;
export type NewEvent = Omit<StoredEvent, 'id'> & { id?: never };

/** The server's replay size: `getRecentEvents(300)` on every connect. */
export const REPLAY_SIZE = 300;

/** The hooks server's "initial" frame: the 300 newest events by (client) timestamp, ascending. */
export function initialFrameOf(stored: StoredEvent[], window = REPLAY_SIZE): { type: 'initial'; data: StoredEvent[] } {
  return { type: 'initial', data: newestByTimestamp(stored, window) };
}

/**
 * `SELECT … ORDER BY timestamp DESC LIMIT n`, then reversed (apps/server/src/db.ts): the newest n
 * by timestamp, oldest first; among equal timestamps the index gives ascending ids. A negative n
 * is SQLite's "no limit".
 */
export function newestByTimestamp(stored: StoredEvent[], limit: number): StoredEvent[] {
  const sorted = [...stored].sort((a, b) => a.timestamp - b.timestamp || a.id - b.id);
  return limit < 0 ? sorted : limit === 0 ? [] : sorted.slice(-limit);
}

/**
 * A stand-in for the Bun hooks server that behaves like the real one on loopback (its queries are
 * in the comments): the replay on every connect, a broadcast per stored event, `GET /events/recent`,
 * a human-in-the-loop answer re-broadcast under its old id, and what happens to its SQLite
 * database: ids are row ids (max + 1), lost rows are handed out again (a rollback), a deleted
 * database starts again at 1. `down` makes it refuse connections like a stopped server.
 */
export class FakeHooksServer {
  /** Overrides the initial frame of the next connections (raw text), e.g. a recorded fixture. */
  initialFrame: string | null = null;
  /** Sends the replay in fragments of this many bytes, with a ping between them (RFC 6455 allows both). */
  fragmentReplay: number | null = null;
  /** The query strings of every `GET /events/recent`. */
  recentRequests: string[] = [];
  connections = 0;
  /** `GET /events/recent` answers this status (an older or broken server). */
  recentStatus = 200;
  /** When set, `GET /events/recent` waits for it before answering. */
  recentGate: Promise<void> | null = null;
  /** A stopped server: connections and requests are refused. */
  down = false;
  private sockets = new Set<WebSocket>();
  private latest: WebSocket | null = null;
  private rows: StoredEvent[] = [];
  private highestId = 0;
  /** TCP connections of plain HTTP requests (upgraded ones are WebSockets). */
  private readonly httpSockets = new Set<Socket>();

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
  ) {
    http.on('request', (req, res) => void this.answerHttp(req, res));
    http.on('connection', (socket: Socket) => {
      this.httpSockets.add(socket);
      socket.on('close', () => this.httpSockets.delete(socket));
    });
    http.on('upgrade', (req, socket: Socket, head) => {
      this.httpSockets.delete(socket);
      if (this.down) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    wss.on('connection', (socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      this.latest = socket;
      socket.on('close', () => this.sockets.delete(socket));
      this.sendReplay(socket);
    });
  }

  static async start(): Promise<FakeHooksServer> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
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

  /** Open HTTP connections (keep-alive ones included) that are not WebSockets. */
  get openHttpConnections(): number {
    return this.httpSockets.size;
  }

  /** The events table. */
  get stored(): StoredEvent[] {
    return this.rows;
  }

  set stored(rows: StoredEvent[]) {
    this.rows = rows;
    this.highestId = rows.reduce((max, e) => Math.max(max, e.id), 0);
  }

  get maxId(): number {
    return this.highestId;
  }

  /** `POST /events`: stored with the next row id, then broadcast to every client. */
  async post(event: NewEvent): Promise<StoredEvent> {
    const stored = this.insert(event);
    await this.broadcast(JSON.stringify({ type: 'event', data: stored }));
    return stored;
  }

  /** Stored while no client is connected (or before they are): nothing is broadcast. */
  insert(event: NewEvent): StoredEvent {
    const stored = { ...event, id: this.highestId + 1 } as StoredEvent;
    this.rows.push(stored);
    this.highestId = stored.id;
    return stored;
  }

  /** `POST /events/:id/respond`: the row is updated and broadcast again under the same id. */
  async respond(id: number): Promise<void> {
    const row = this.stored.find((e) => e.id === id);
    if (!row) throw new Error(`no event ${id}`);
    row.humanInTheLoopStatus = { status: 'responded', respondedAt: row.timestamp + 1 };
    await this.broadcast(JSON.stringify({ type: 'event', data: row }));
  }

  /** A crash that loses the newest rows (WAL with synchronous=NORMAL, or its -wal/-shm clean-up): their ids come again. */
  loseNewestRows(count: number): StoredEvent[] {
    const lost = [...this.stored].sort((a, b) => b.id - a.id).slice(0, count);
    this.stored = this.stored.filter((e) => !lost.includes(e));
    return lost;
  }

  /** events.db deleted: a new, empty database; ids start again at 1. */
  deleteDatabase(): void {
    this.stored = [];
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
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private broadcast(text: string): Promise<void> {
    return Promise.all(
      [...this.sockets].map((socket) => new Promise<void>((resolve, reject) => socket.send(text, (error) => (error ? reject(error) : resolve())))),
    ).then(() => undefined);
  }

  private sendReplay(socket: WebSocket): void {
    const text = this.initialFrame ?? JSON.stringify(initialFrameOf(this.stored));
    const size = this.fragmentReplay;
    if (size === null) {
      socket.send(text);
      return;
    }
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += size) {
      const fin = at + size >= bytes.length;
      socket.send(bytes.subarray(at, at + size), { binary: false, fin });
      if (!fin) socket.ping();
    }
  }

  private async answerHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.down) {
      res.socket?.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/events/recent') {
      this.recentRequests.push(url.search);
      if (this.recentGate) await this.recentGate;
      if (this.recentStatus !== 200) {
        res.statusCode = this.recentStatus;
        res.end('Internal Server Error');
        return;
      }
      // parseInt(url.searchParams.get('limit') || '300')
      const limit = Number.parseInt(url.searchParams.get('limit') || '300', 10);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(newestByTimestamp(this.stored, limit)));
      return;
    }
    res.setHeader('content-type', 'text/plain');
    res.end('Multi-Agent Observability Server');
  }
}
