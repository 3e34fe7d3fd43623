// Worker entry of bench/patterns.js's RateLimiter case: attaches the shared limiter, warms up,
// reports ready, waits at the start barrier, calls allow() `count` times and reports
// { start, end, allowed, cpuNs } (process.hrtime.bigint(): one clock for every thread; cpuNs: the
// CPU time this thread got meanwhile, so the case can tell whether both really ran at once).
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

/** ns this thread has run on a CPU (Linux schedstat; NaN elsewhere). */
const cpuNs = () => {
  try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]); } catch { return NaN; }
};

const { module, shared, barrier, count, warm } = workerData;
const weft = await import(module);
const { limiter } = weft.attach(shared);
let allowed = 0;
for (let i = 0; i < warm; i++) if (limiter.allow()) allowed++;
allowed = 0;
parentPort.postMessage({ type: 'ready' });
Atomics.wait(barrier, 0, 0);
const cpu0 = cpuNs();
const start = process.hrtime.bigint();
for (let i = 0; i < count; i++) if (limiter.allow()) allowed++;
const end = process.hrtime.bigint();
parentPort.postMessage({ type: 'result', start, end, allowed, cpuNs: cpuNs() - cpu0 });
