// Preloaded (node --import) into a bridge process by test/core/process.test.ts. When the bridge
// logs "bridge stopped", it reports on stderr what could still keep the process alive: ref'd
// timers, and handles other than stdio that are not already closing (a socket not destroyed, a
// server still listening, a child process). Closing handles go at the next turn of the loop.
import { setImmediate } from 'node:timers';

const PROBE = 'EXIT-PROBE ';
const write = process.stdout.write.bind(process.stdout);

function describeHandle(handle) {
  const name = handle.constructor?.name ?? typeof handle;
  if (typeof handle.address === 'function') {
    const address = handle.address();
    if (address && typeof address === 'object') return `${name} ${address.address}:${address.port}${handle.remotePort ? ` → ${handle.remotePort}` : ''}`;
  }
  return typeof handle.pid === 'number' ? `${name} pid ${handle.pid}` : name;
}

function stillKeepingAlive() {
  const handles = process
    ._getActiveHandles()
    .filter((h) => h !== process.stdin && h !== process.stdout && h !== process.stderr)
    .filter((h) => h.destroyed !== true && h.listening !== false)
    .map(describeHandle);
  const timers = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  return { handles, timers };
}

process.stdout.write = (chunk, ...rest) => {
  const written = write(chunk, ...rest);
  if (String(chunk).includes('"msg":"bridge stopped"')) {
    setImmediate(() => process.stderr.write(`${PROBE}${JSON.stringify(stillKeepingAlive())}\n`));
  }
  return written;
};
