// The token-bucket rate limiter (Effective Concurrency in Go, the rate-limiting pattern): one
// bucket, shared by every worker thread, refills at RATE tokens per second and holds up to
// BURST. Workers on weft's pool call limiter.waitSync() before each request, so together they
// never go faster than the limit: a first burst of BURST requests at once, then one every
// 1/RATE s. Then the main thread shows the other way to use a limiter: allow() drops what
// exceeds the limit instead of waiting.
//
//   node examples/rate-limiter.js
import { Chan, RateLimiter, go, shutdown, sleep } from 'weft';

const RATE = 20; // tokens per second
const BURST = 5; // bucket size
const WORKERS = 3;
const REQUESTS = 10; // per worker

const limiter = new RateLimiter(RATE, BURST, { name: 'api' });
const events = new Chan(64);
const worker = new URL('./lib/rate-worker.js', import.meta.url);

console.log(`rate limiter: ${RATE} requests/s, bursts of ${BURST}, shared by ${WORKERS} workers`);
const tasks = [];
for (let w = 1; w <= WORKERS; w++) tasks.push(go(worker, 'serve', w, REQUESTS, limiter, events));
const served = Promise.all(tasks).finally(() => events.close());

// Two workers can take tokens within the same millisecond and send in either order, so the
// events are printed sorted by the time each was served, from the first one (thread start-up
// is not the limiter's doing).
const log = [];
for await (const e of events) log.push(e);
log.sort((a, b) => a.at - b.at);
const first = log[0].at;
const last = log[log.length - 1].at;
for (const e of log) {
  console.log(`  +${((e.at - first) / 1000).toFixed(3)}s  worker ${e.worker}  request ${e.request}`);
}
const total = (await served).reduce((a, b) => a + b, 0);
const elapsed = (last - first) / 1000;
const allowed = Math.floor(BURST + RATE * elapsed);

// The bucket refills while we sleep (to BURST at most); then ten requests arrive at once and
// allow() admits what the bucket holds, dropping the rest.
await sleep((BURST / RATE) * 1000 + 100);
let admitted = 0;
for (let i = 0; i < 10; i++) if (limiter.allow()) admitted++;
console.log(`allow(): 10 requests at once after a pause: ${admitted} admitted, ${10 - admitted} dropped`);

console.log(
  `summary: ${total} requests served by ${WORKERS} workers in ${elapsed.toFixed(2)}s: ` +
    `a burst of ${BURST}, then ${((total - BURST) / elapsed).toFixed(1)}/s ` +
    `(limit ${RATE}/s: at most ${allowed} requests in that time)`,
);
await shutdown();
