// Timers and tickers (Effective Concurrency in Go, ch. 7): timeouts, running something later,
// stopping and resetting a timer, periodic work on the main thread and on a worker thread.
//
//   node examples/timers.js
import { Chan, Ticker, Timer, after, afterFunc, go, recv, select, sleep } from 'weft';

const tasks = new URL('./lib/timers.js', import.meta.url);
const since = (t) => `${Math.round(performance.now() - t)} ms`;

// 1. Timeouts: wait for a result or for time.After, whichever comes first. The result channel
//    has capacity 1 so that the late task can still send and end (an unbuffered send with no
//    receiver left would block it forever: the goroutine leak the book warns about).
async function callWithTimeout(workMs, timeoutMs) {
  const result = new Chan(1);
  const task = go(tasks, 'slowAnswer', workMs, result);
  const { index, value } = await select([recv(result), recv(after(timeoutMs))]);
  await task; // the example waits for the task so that it ends cleanly
  return index === 0 ? { value } : { timedOut: true };
}
const slow = await callWithTimeout(400, 50);
console.log(`slow call (400 ms, timeout 50 ms): ${slow.timedOut ? 'timed out' : `returned ${slow.value}`}`);
const fast = await callWithTimeout(10, 5_000);
console.log(`fast call (10 ms, timeout 5 s): ${fast.timedOut ? 'timed out' : `returned ${fast.value}`}`);

// 2. Running something later: afterFunc runs a function on this thread's event loop.
const ran = new Chan(1);
const tAfter = performance.now();
afterFunc(20, () => {
  console.log(`afterFunc(20) ran ${since(tAfter)} later`);
  ran.trySend(true);
});
await ran.recv();

// 3. Stop and reset. stop() is true when the timer had not fired yet; once its value has been
//    received, stop() is false. reset() re-arms a stopped timer.
const timer = new Timer(1_000);
const stoppedEarly = timer.stop();
console.log(`timer stopped before firing: ${stoppedEarly}`);
const tReset = performance.now();
timer.reset(30);
const firedAt = await timer.c.recv(); // the value is the fire time, ms since the epoch
console.log(`timer reset to 30 ms fired ${Math.round(firedAt - (performance.timeOrigin + tReset))} ms later`);
const stoppedLate = timer.stop();
console.log(`stop after it fired: ${stoppedLate}`);

// 4. Periodic work: a ticker every 20 ms, five ticks, then stop. A slow receiver would skip
//    ticks rather than get a burst of them.
const ticker = new Ticker(20);
let ticks = 0;
for await (const _ of ticker.c) {
  ticks++;
  console.log(`tick ${ticks}`);
  if (ticks === 5) break;
}
ticker.stop();

// 5. Periodic work on a worker thread until a done channel is closed.
const done = new Chan();
const poller = go(tasks, 'pollUntilDone', 10, done);
await sleep(150);
done.close();
const workerTicks = await poller;
console.log(`worker ticked ${workerTicks} times in 150 ms, then done was closed`);

const ok = slow.timedOut === true && fast.value === 42 && stoppedEarly && !stoppedLate && ticks === 5 && workerTicks > 0;
console.log(`timers: slow call timed out, fast call returned ${fast.value}, stop before firing ${stoppedEarly}, stop after firing ${stoppedLate}, ${ticks} ticks, worker ticker stopped by done: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
