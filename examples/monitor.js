// The request monitor (Effective Concurrency in Go, ch. 10, "Detecting failures and healing"):
// requests go through a Monitor that answers "busy" at once when too many are in flight, gives
// up on a request that takes too long, and raises an alert for one that is slow.
//
//   node examples/monitor.js
import { BusyError, Monitor, TimeoutError, background, go, withCancel } from 'weft';

const work = new URL('./lib/monitor.js', import.meta.url);

// Each request's work runs on a pool thread; the context is canceled when the monitor gives up
// (its signal aborts), so the work stops too.
function handler(ms, signal) {
  const [ctx, cancel] = withCancel(background());
  signal.addEventListener('abort', () => cancel(signal.reason), { once: true });
  return go(work, 'handle', ms, ctx).finally(() => cancel());
}

const monitor = new Monitor({ callTimeout: 1_000, alertTimeout: 300, maxActive: 2 }, handler);
await go(work, 'handle', 0, background()); // the pool is up before the first request

let alerts = 0;
const alertLog = (async () => {
  for await (const ms of monitor.alerts) {
    alerts++;
    console.log(`alert: a request has been running for ${Math.round(ms)} ms`);
  }
})();

const counts = { done: 0, busy: 0, timeout: 0 };
async function request(id, ms) {
  try {
    const r = await monitor.call(ms);
    counts.done++;
    return `request ${id}: ${r}`;
  } catch (e) {
    if (e instanceof BusyError) {
      counts.busy++;
      return `request ${id}: busy`;
    }
    if (e instanceof TimeoutError) {
      counts.timeout++;
      return `request ${id}: timed out`;
    }
    throw e;
  }
}

console.log(await request(1, 20)); // fast
console.log(await request(2, 600)); // slow: an alert, but it completes
console.log(await request(3, 3_000)); // too slow: an alert, then a timeout (its work is canceled)
// A burst of three with room for two: the third is turned away at once.
for (const line of await Promise.all([request(4, 100), request(5, 100), request(6, 100)])) console.log(line);

monitor.close(); // ends the alert loop
await alertLog;
const ok = counts.done === 4 && counts.busy === 1 && counts.timeout === 1 && alerts >= 2;
console.log(`summary: ${counts.done} done, ${counts.busy} busy, ${counts.timeout} timed out, ${alerts} alerts ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
