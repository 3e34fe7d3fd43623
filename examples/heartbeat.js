// Heartbeats (Effective Concurrency in Go, ch. 7) and a monitor that heals a stuck worker
// (ch. 10, "Detecting failures and healing").
//
// 1. A worker on a pool thread beats a Heartbeat before each job; the main thread receives
//    from hb.missed(100), which gets a value each time 100 ms pass without a beat (one slow
//    job makes it miss a few).
// 2. supervise() runs a worker on a thread of its own; when its beats stop for 500 ms (its
//    first run gets stuck in `for (;;) {}`, which no goroutine could be rescued from in Go), the
//    thread is terminated and the function started again.
//
//   node examples/heartbeat.js
import { AtomicInt64, Heartbeat, go, supervise } from 'weft';

const tasks = new URL('./lib/heartbeat.js', import.meta.url);

// 1. Heartbeats.
const hb = new Heartbeat({ name: 'worker' });
await go(tasks, 'work', 1, -1, 0, hb); // a pool thread is up: the watch below sees the real work
const stop = new AbortController();
const missed = hb.missed(100, { signal: stop.signal });
let misses = 0;
const watcher = (async () => {
  for await (const ms of missed) {
    misses++;
    console.log(`no heartbeat for ${Math.round(ms / 100) * 100} ms`);
  }
})();
const jobs = await go(tasks, 'work', 8, 4, 350, hb);
stop.abort();
await watcher;
console.log(`worker finished ${jobs} jobs, last heartbeat ${Math.round(performance.timeOrigin + performance.now() - hb.last)} ms ago`);

// 2. Healing: a monitor restarts the worker when its heartbeats stop.
const runs = new AtomicInt64(0);
const sup = supervise(tasks, 'stubborn', [runs, 20], { heartbeatTimeout: 500, backoff: 50, maxRestarts: 3 });
let restarts = 0;
const restartLog = (async () => {
  for await (const r of sup.restarts) {
    restarts++;
    console.log(`worker restarted: ${r.reason}`);
  }
})();
const sum = await sup.result;
await restartLog;
console.log(`worker returned ${sum} after ${runs.load()} runs`);

const ok = misses >= 1 && jobs === 8 && restarts === 1 && runs.load() === 2 && sum === 210;
console.log(`summary: ${misses} missed heartbeats, ${restarts} restart, result ${sum} ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
