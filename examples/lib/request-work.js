// Task of examples/request-server.js: the CPU work of one request, on a pool thread (go()).

function isPrime(k) {
  if (k < 2) return false;
  for (let d = 2; d * d <= k; d++) if (k % d === 0) return false;
  return true;
}

/**
 * Counts the primes below `n`, checking the request's context every few thousand numbers: when
 * the request times out or its client goes away, the context ends and the work stops early by
 * throwing `ctx.err()` (a DeadlineExceededError or CanceledError, which reaches the server as
 * the same class). `active`/`maxActive` (AtomicInt64) record how many requests work at once.
 */
export function countPrimes(ctx, n, active, maxActive) {
  const now = active.add(1);
  for (let m = maxActive.load(); now > m && !maxActive.compareAndSwap(m, now); m = maxActive.load());
  try {
    let count = 0;
    for (let k = 0; k < n; k++) {
      if ((k & 0xfff) === 0 && ctx.err() !== null) throw ctx.err();
      if (isPrime(k)) count++;
    }
    return count;
  } finally {
    active.add(-1);
  }
}
