// The dining philosophers (Effective Concurrency in Go, ch. 4), on worker threads.
//
// Five philosophers sit around a table with one fork between each pair; a philosopher needs both
// neighbouring forks to eat. Each fork is a weft Mutex shared by the two threads next to it, and
// each philosopher is a go() task that locks with lockSync. Taking the lower-numbered fork first
// (a global lock order) makes a deadlock impossible: everybody eats, every time.
//
//   node examples/dining-philosophers.js [meals]
import { AtomicInt64, Chan, Mutex, WaitGroup, go } from 'weft';

const N = 5;
const MEALS = Number(process.argv[2] ?? 5);
const tasks = new URL('./lib/philosophers.js', import.meta.url);

const forks = Array.from({ length: N }, () => new Mutex());
const inUse = Array.from({ length: N }, () => new AtomicInt64(0));
const violations = new AtomicInt64(0);
const log = new Chan(16, { name: 'log' }); // the philosophers report here; main prints
const seated = new WaitGroup();
seated.add(N);

const philosophers = Array.from({ length: N }, (_, id) => go(tasks, 'philosopher', id, forks, inUse, MEALS, violations, log, seated));
Promise.allSettled(philosophers).then(() => log.close());
for await (const line of log) console.log(line);

const meals = await Promise.all(philosophers);
const total = meals.reduce((a, b) => a + b, 0);
const ok = meals.every((m) => m === MEALS) && violations.load() === 0;
console.log(`dining-philosophers: ${N} philosophers ate ${MEALS} times each (${total} meals), shared forks ${violations.load()}, no deadlock: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
