import type { Clock } from './clock.js';
import { errorMessage } from './errors.js';

export interface CappedFetchOptions {
  clock: Clock;
  timeoutMs: number;
  /** The answer's size limit: a larger one is refused, never held whole. */
  maxBytes: number;
  /** Aborts the request from outside (the caller stopped). */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** GETs a URL and returns its body as text, bounded in time and size. */
export async function fetchTextCapped(url: string, options: CappedFetchOptions): Promise<string> {
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timer = options.clock.setTimeout(() => abort.abort(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
  try {
    const response = await (options.fetch ?? globalThis.fetch)(url, { signal: abort.signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await readCapped(response, options.maxBytes);
  } catch (error) {
    const reason: unknown = abort.signal.aborted ? abort.signal.reason : undefined;
    throw new Error(reason instanceof Error ? reason.message : errorMessage(error), { cause: error });
  } finally {
    options.clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new Error(`answer of ${declared} bytes exceeds the limit (${maxBytes})`);
  if (!response.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`answer exceeds the limit (${maxBytes} bytes)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
