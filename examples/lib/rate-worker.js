// A worker of examples/rate-limiter.js: it runs on one of weft's pool threads (started with
// go()), and every request it serves first takes a token from the limiter that all workers
// share. waitSync() blocks this thread, not the main one, until the bucket has a token.
import { sleepSync } from 'weft';

/**
 * Serves `requests` requests, each after limiter.waitSync(); reports each on `events` with
 * the time it was served (ms since the epoch).
 * Returns how many it served.
 */
export function serve(id, requests, limiter, events) {
  for (let i = 1; i <= requests; i++) {
    limiter.waitSync();
    events.sendSync({ worker: id, request: i, at: Date.now() });
    sleepSync(2); // the work of a request
  }
  return requests;
}
