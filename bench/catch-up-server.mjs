// A stand-in for the hooks server's database side, in its own process so that its memory is not
// the bridge's: the events of a JSON file (sorted by timestamp, ids ascending) served the way the
// Bun server does — the replay on connect (newest 300 by timestamp) and GET /events/recent?limit=N
// (newest N, oldest first), streamed from the file. Controlled over IPC: {rows: N} makes the
// database the first N events of the file. Loopback only.
import { createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const [file, offsetsFile] = process.argv.slice(2);
// offsets[i]: where event i starts; each event is followed by a comma, so offsets[n] is just after the n-th one's.
const offsets = JSON.parse(readFileSync(offsetsFile, 'utf8'));
const fd = openSync(file, 'r');
let rows = 0;
const requests = [];

/** Byte range of the newest `limit` events of the database (the last ones of the file's first `rows`). */
function newest(limit) {
  const first = limit < 0 ? 0 : Math.max(0, rows - limit);
  return { first, start: offsets[first], end: offsets[rows] };
}

function sliceBytes({ start, end }) {
  const out = Buffer.alloc(Math.max(0, end - start));
  if (out.length > 0) readSync(fd, out, 0, out.length, start);
  return out;
}

const http = createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/events/recent') {
    res.end('Multi-Agent Observability Server');
    return;
  }
  const limit = Number.parseInt(url.searchParams.get('limit') || '300', 10);
  requests.push(limit);
  const range = newest(limit);
  res.setHeader('content-type', 'application/json');
  res.write('[');
  if (range.end <= range.start) {
    res.end(']');
    return;
  }
  // The last event's comma is left out (end is inclusive).
  createReadStream(file, { start: range.start, end: range.end - 2 })
    .on('end', () => res.end(']'))
    .pipe(res, { end: false });
});
const wss = new WebSocketServer({ server: http, path: '/stream' });
wss.on('connection', (socket) => {
  const range = newest(300);
  const body = range.end > range.start ? sliceBytes({ start: range.start, end: range.end - 1 }) : Buffer.alloc(0);
  socket.send(Buffer.concat([Buffer.from('{"type":"initial","data":['), body, Buffer.from(']}')]), { binary: false });
});

http.listen(0, '127.0.0.1', () => process.send({ port: http.address().port }));
process.on('message', (message) => {
  if (message.rows !== undefined) {
    rows = message.rows;
    requests.length = 0;
    process.send({ ok: true });
  } else if (message === 'requests') {
    process.send({ requests });
  } else if (message === 'stop') {
    for (const client of wss.clients) client.terminate();
    http.close(() => process.exit(0));
  }
});
