import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy to a server, whose listening port can be cut and restored: while cut,
 * connecting to it is refused, exactly as for a server that is down, and open connections drop.
 */
export interface TcpProxy {
  port: number;
  /** Connections accepted while up. */
  connections: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const proxy: TcpProxy = {
    get port() {
      return port;
    },
    connections: 0,
    async cut() {
      const closing = server;
      server = null;
      if (!closing) return;
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      if (server) return;
      server = createServer((client) => {
        proxy.connections += 1;
        const upstream = connect(target);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            sockets.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, '127.0.0.1', () => resolve());
      });
      const address = listening.address();
      if (typeof address === 'object' && address) port = address.port;
    },
    close: () => proxy.cut(),
  };
  await proxy.restore();
  return proxy;
}
