// Tasks of examples/timers.js, on weft's pool threads (go()).
import { Ticker, recv, selectSync, sleepSync } from 'weft';

/** A computation that takes `ms`, then sends its answer on `out` (capacity 1: it never blocks). */
export function slowAnswer(ms, out) {
  sleepSync(ms);
  out.sendSync(42);
}

/**
 * Periodic work on a worker thread: every `ms`, until `done` is closed (Go's
 * `for { select { case <-done: return; case <-ticker.C: work() } }`). The ticker's channel is
 * driven by weft's native timer thread, so it fires while this thread waits in selectSync.
 */
export function pollUntilDone(ms, done) {
  const ticker = new Ticker(ms);
  let ticks = 0;
  try {
    for (;;) {
      const { index } = selectSync([recv(done), recv(ticker.c)]);
      if (index === 0) return ticks;
      ticks++; // the periodic work would go here
    }
  } finally {
    ticker.stop();
  }
}
