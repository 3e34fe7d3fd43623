// Task of examples/dining-philosophers.js: one philosopher, on a pool thread (go()).
import { sleepSync } from 'weft';

/**
 * Thinks and eats `meals` times. To eat it needs both forks next to it. Deadlock is avoided as
 * in the book: every philosopher picks up the lower-numbered fork first, so no cycle of
 * philosophers each holding one fork and waiting for the next can form.
 *
 * `seated` is a WaitGroup: dinner starts once everybody is seated.
 * `inUse[f]` counts holders of fork f (an AtomicInt64): anything other than 1 after picking it
 * up would mean two philosophers hold the same fork; `violations` counts such cases.
 */
export function philosopher(id, forks, inUse, meals, violations, log, seated) {
  const left = id;
  const right = (id + 1) % forks.length;
  const [first, second] = left < right ? [left, right] : [right, left];
  let eaten = 0;
  seated.done(); // wait until all five sit at the table (each on its own thread)
  seated.waitSync();
  while (eaten < meals) {
    log.sendSync(`Philosopher ${id} is thinking`);
    sleepSync(1 + ((id * 7 + eaten * 3) % 5));
    forks[first].lockSync();
    forks[second].lockSync();
    if (inUse[first].add(1) !== 1 || inUse[second].add(1) !== 1) violations.add(1);
    log.sendSync(`Philosopher ${id} is eating (forks ${first} and ${second})`);
    sleepSync(1 + ((id + eaten) % 3));
    eaten++;
    inUse[first].add(-1);
    inUse[second].add(-1);
    forks[second].unlock();
    forks[first].unlock();
  }
  log.sendSync(`Philosopher ${id} is done after ${eaten} meals`);
  return eaten;
}
