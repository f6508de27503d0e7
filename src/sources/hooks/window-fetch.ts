import http from 'node:http';
import https from 'node:https';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { HookEventReader } from './event-reader.js';

export interface WindowFetchOptions {
  clock: Clock;
  /** Gives up when the server sends nothing for this long. */
  idleTimeoutMs: number;
  /** Aborts the request from outside (the connection closed, the bridge stopped). */
  signal: AbortSignal;
}

/** `ws://host:4000/stream` → `http://host:4000/events/recent?limit=N`: the newest N events by timestamp, oldest first. */
export function recentEventsUrl(streamUrl: string, limit: number): string {
  const url = new URL(streamUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = `${url.pathname.replace(/\/stream\/?$/, '').replace(/\/$/, '')}/events/recent`;
  url.search = `?limit=${limit}`;
  return url.toString();
}

/**
 * GETs one window of the server's events and hands each on, reduced, as the answer streams in
 * (HookEventReader): the answer is never held whole, whatever the transcripts in it weigh.
 * Resolves with the number of events read; rejects on an HTTP error, malformed JSON, an idle
 * server or an abort.
 *
 * node:http rather than fetch: fetch's HTTP parser is WebAssembly that V8 recompiles in the
 * background after first use, and a process asked to stop then waits for that compilation
 * (about 1–2 s on a small machine) before it can exit. A connection per window (no agent): the
 * windows are few, and no idle socket to the hooks server outlives them.
 */
export function fetchEventWindow(url: string, options: WindowFetchOptions, onEvent: (raw: unknown) => void): Promise<number> {
  const { clock, idleTimeoutMs, signal } = options;
  return new Promise<number>((resolve, reject) => {
    const target = new URL(url);
    const reader = new HookEventReader(onEvent);
    let idle: TimerHandle | null = null;
    let settled = false;
    const finish = (error: Error | null, events = 0) => {
      if (settled) return;
      settled = true;
      if (idle) clock.clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        request.destroy();
        reject(error);
      } else {
        resolve(events);
      }
    };
    const armIdle = () => {
      if (idle) clock.clearTimeout(idle);
      idle = clock.setTimeout(() => finish(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const client = target.protocol === 'https:' ? https : http;
    const request = client.get(target, { agent: false, headers: { accept: 'application/json' } }, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        response.resume();
        finish(new Error(`HTTP ${status}`));
        return;
      }
      response.on('data', (chunk: Buffer) => {
        armIdle();
        try {
          reader.write(chunk);
        } catch (error) {
          finish(asError(error));
        }
      });
      response.on('end', () => {
        try {
          const summary = reader.end();
          if (summary.root !== 'array') throw new Error('the answer is not a JSON array');
          finish(null, summary.events);
        } catch (error) {
          finish(asError(error));
        }
      });
      response.on('error', (error) => finish(error));
      response.on('close', () => finish(new Error('the answer was cut short')));
    });
    request.on('error', (error) => finish(error));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    else armIdle();
  });
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
