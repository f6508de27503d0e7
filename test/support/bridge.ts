import type { AddressInfo } from 'node:net';
import { Bridge } from '../../src/bridge.js';
import type { ComponentFactory } from '../../src/component.js';
import type { BridgeConfig } from '../../src/config/index.js';
import { MemoryStateStore, type StateStore } from '../../src/recovery/store.js';
import type { Clock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { testConfig } from './config.js';

export interface RunningBridge {
  bridge: Bridge;
  url: string;
  stop(): Promise<void>;
  get(path: string): Promise<{ status: number; body: any; text: string }>;
  post(path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
}

/** A real bridge on a free loopback port. */
export async function startBridge(
  options: { config?: BridgeConfig; store?: StateStore; clock?: Clock; components?: ComponentFactory[] } = {},
): Promise<RunningBridge> {
  const config = options.config ?? testConfig();
  config.server.port = 0;
  config.server.host = '127.0.0.1';
  const bridge = new Bridge({
    config,
    logger: silentLogger,
    store: options.store ?? new MemoryStateStore(),
    ...(options.clock ? { clock: options.clock } : {}),
    components: options.components ?? [],
  });
  const address: AddressInfo = await bridge.start();
  const url = `http://127.0.0.1:${address.port}`;
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(url + path, init);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed as any, text };
  };
  return {
    bridge,
    url,
    stop: () => bridge.stop(),
    get: (path) => request('GET', path),
    post: (path, body, headers) => request('POST', path, body, headers),
  };
}
