// Tasks of examples/heartbeat.js. `work` runs on weft's pool threads (go()); `stubborn` on a
// thread of its own under supervise(). Each gets a Heartbeat and calls beat() as it goes.
import { sleepSync } from 'weft';

/** Does `jobs` jobs of 20 ms; job `slow` takes `slowMs` instead. Beats before each job. */
export function work(jobs, slow, slowMs, hb) {
  for (let i = 0; i < jobs; i++) {
    hb.beat();
    sleepSync(i === slow ? slowMs : 20);
  }
  hb.beat();
  return jobs;
}

/**
 * Sums 1..n, a step every 10 ms, beating at each step. Its first run gets stuck halfway in a
 * loop that never ends (the kind of bug a heartbeat catches): no more beats come, and
 * supervise() terminates the thread and starts the function again.
 */
export function stubborn(runs, n, hb) {
  const run = runs.add(1);
  let sum = 0;
  for (let i = 1; i <= n; i++) {
    hb.beat();
    if (run === 1 && i === Math.ceil(n / 2)) for (;;) {} // stuck
    sum += i;
    sleepSync(10);
  }
  return sum;
}
