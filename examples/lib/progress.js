// Task of examples/progress.js: a worker counting primes, on a pool thread (go()).

function isPrime(k) {
  if (k < 2) return false;
  if (k % 2 === 0) return k === 2;
  for (let d = 3; d * d <= k; d += 2) if (k % d === 0) return false;
  return true;
}

/**
 * Takes chunk numbers from `jobs` until it is closed, counts the primes in each chunk of
 * `chunkSize` numbers, and reports as it goes: `primes` and `numbers` are shared atomic counters
 * every worker adds to, `meter` is a ProgressMeter (a count plus the time of the last progress,
 * read as one snapshot). Returns its own totals, so the counters can be checked against them.
 */
export function countChunks(jobs, chunkSize, primes, numbers, meter) {
  let mine = 0;
  let chunks = 0;
  for (const c of jobs) {
    let found = 0;
    for (let k = c * chunkSize; k < (c + 1) * chunkSize; k++) if (isPrime(k)) found++;
    primes.add(found);
    numbers.add(chunkSize);
    meter.progress(1);
    mine += found;
    chunks++;
  }
  return { primes: mine, chunks };
}
