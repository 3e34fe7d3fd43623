// Task of examples/monitor.js, on weft's pool threads (go()): a request's CPU work.
import { after, recv, selectSync } from 'weft';

/**
 * Works for `ms` (a thread blocked in selectSync stands in for CPU work), or stops early when
 * `ctx` is canceled (the monitor gave up on the request): Go's
 * `select { case <-ctx.Done(): case <-time.After(d): }`.
 */
export function handle(ms, ctx) {
  const { index } = selectSync([recv(ctx.done()), recv(after(ms))]);
  return index === 0 ? 'canceled' : `done in ${ms} ms`;
}
