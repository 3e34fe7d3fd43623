// Handling requests concurrently (Effective Concurrency in Go, ch. 8): an HTTP server whose
// requests each get a context with a timeout, canceled as well when the client goes away, and
// a semaphore that limits how many requests do their CPU work at once (on weft's pool threads).
//
// The same script plays the clients: a burst of requests, one that takes longer than its
// timeout, and one whose client gives up. It prints what each client got, then a summary, and
// ends by itself.
//
//   node examples/request-server.js
import { createServer, get } from 'node:http';
import { AtomicInt64, CanceledError, DeadlineExceededError, Semaphore, background, cause, go, withTimeout } from 'weft';

const LIMIT = 2; // requests at work at once
const work = new URL('./lib/request-work.js', import.meta.url);
const sem = new Semaphore(LIMIT);
const active = new AtomicInt64(0);
const maxActive = new AtomicInt64(0);
const stats = { ok: 0, timedOut: 0, canceled: 0 };
const handling = new Set();
let arrived; // resolved when the request whose client gives up has reached the server
const givesUpArrived = new Promise((resolve) => (arrived = resolve));

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const n = Number(url.searchParams.get('n') ?? 100_000);
  const timeout = Number(url.searchParams.get('timeout') ?? 5_000);
  // The request's context: ends after `timeout`, or when the client closes the connection.
  const [ctx, cancel] = withTimeout(background(), timeout);
  res.on('close', () => {
    if (!res.writableFinished) cancel(new Error('client went away'));
  });
  if (url.searchParams.has('client')) arrived();
  try {
    await sem.acquire(1, { signal: ctx.signal }); // wait for a permit, unless the request ends first
    let primes;
    try {
      primes = await go(work, 'countPrimes', ctx, n, active, maxActive);
    } finally {
      sem.release();
    }
    stats.ok++;
    res.end(`primes below ${n}: ${primes}\n`);
  } catch (e) {
    if (e instanceof DeadlineExceededError) {
      stats.timedOut++;
      res.writeHead(504).end(`timed out after ${timeout} ms\n`);
    } else if (e instanceof CanceledError) {
      stats.canceled++;
      console.log(`server: request ${url.search} canceled (${cause(ctx).message})`);
      res.destroy();
    } else {
      res.writeHead(500).end(`${e}\n`);
    }
  } finally {
    cancel(); // release the context's timer
  }
}

const server = createServer((req, res) => {
  const p = handle(req, res);
  handling.add(p);
  p.finally(() => handling.delete(p));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

/** A client request: resolves with the status and body, or with the error that ended it. */
function request(path, signal) {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ path, status: res.statusCode, body: body.trim() }));
    });
    req.on('error', (e) => resolve({ path, status: e.name, body: e.message }));
  });
}

const paths = [
  ...[100_000, 150_000, 200_000, 250_000, 300_000, 350_000].map((n) => `/primes?n=${n}&timeout=20000`),
  '/primes?n=1000000000&timeout=300', // far more work than 300 ms allows
];
const client = new AbortController();
const requests = paths.map((p) => request(p));
requests.push(request('/primes?n=1000000000&timeout=30000&client=gives-up', client.signal));
await givesUpArrived;
setTimeout(() => client.abort(), 200); // the client gives up while the server works on it

const responses = await Promise.all(requests);
await Promise.all(handling); // the server side of the canceled request
server.close();

for (const r of responses) console.log(`GET ${r.path} -> ${r.status}: ${r.body}`);
const clientOk = responses.filter((r) => r.status === 200).length;
const ok = stats.ok === 6 && clientOk === 6 && stats.timedOut === 1 && stats.canceled === 1 && maxActive.load() <= LIMIT && active.load() === 0;
console.log(`request-server: ${responses.length} requests, ${stats.ok} ok, ${stats.timedOut} timed out, ${stats.canceled} canceled by the client; at most ${maxActive.load()} at work at once (semaphore ${LIMIT}): ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
