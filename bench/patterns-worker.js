// Worker entry of bench/patterns.js's RateLimiter case: attaches the shared limiter, warms up,
// reports ready, waits at the start barrier, calls allow() `count` times and reports
// { start, end, allowed } (process.hrtime.bigint(): one clock for every thread).
import { parentPort, workerData } from 'node:worker_threads';

const { module, shared, barrier, count, warm } = workerData;
const weft = await import(module);
const { limiter } = weft.attach(shared);
let allowed = 0;
for (let i = 0; i < warm; i++) if (limiter.allow()) allowed++;
allowed = 0;
parentPort.postMessage({ type: 'ready' });
Atomics.wait(barrier, 0, 0);
const start = process.hrtime.bigint();
for (let i = 0; i < count; i++) if (limiter.allow()) allowed++;
const end = process.hrtime.bigint();
parentPort.postMessage({ type: 'result', start, end, allowed });
