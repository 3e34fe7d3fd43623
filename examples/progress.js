// Atomic counters and a progress meter (Effective Concurrency in Go, ch. 9).
//
// Workers on weft's pool threads count the primes below a limit, chunk by chunk. They add to
// shared AtomicInt64 counters (no lock: one atomic add per update) and report each chunk to a
// ProgressMeter. The main thread only reads: every 100 ms it prints how far the work is and how
// long ago the last progress was (what a monitor would use to notice a stalled worker).
//
//   node examples/progress.js [limit] [workers]
import { availableParallelism } from 'node:os';
import { AtomicInt64, Chan, ProgressMeter, Ticker, go, recv, select } from 'weft';

const LIMIT = Number(process.argv[2] ?? 3_000_000);
const WORKERS = Number(process.argv[3] ?? availableParallelism());
const CHUNK = 10_000;
const CHUNKS = Math.ceil(LIMIT / CHUNK);
const tasks = new URL('./lib/progress.js', import.meta.url);

const primes = new AtomicInt64(0);
const numbers = new AtomicInt64(0);
const meter = new ProgressMeter();
const jobs = new Chan(CHUNKS, { elem: 'i32', name: 'chunks' });
await jobs.sendMany(Int32Array.from({ length: CHUNKS }, (_, i) => i));
jobs.close();

const t0 = Date.now();
const workers = Array.from({ length: WORKERS }, () => go(tasks, 'countChunks', jobs, CHUNK, primes, numbers, meter));
const finished = new Chan(1);
Promise.allSettled(workers).then(() => finished.close());

// Watch the counters until the workers are done.
const ticker = new Ticker(100);
for (;;) {
  const { index } = await select([recv(finished), recv(ticker.c)]);
  if (index === 0) break;
  const { count, at } = meter.get();
  const pct = Math.floor((100 * count) / CHUNKS);
  const last = at === 0 ? 'no progress yet' : `last progress ${Math.max(0, Math.round(Date.now() - at))} ms ago`;
  console.log(`progress: ${String(pct).padStart(3)}% (${count}/${CHUNKS} chunks), ${primes.load()} primes so far, ${last}`);
}
ticker.stop();

const results = await Promise.all(workers);
const fromTasks = results.reduce((a, r) => a + r.primes, 0);
const chunks = results.map((r) => r.chunks);
console.log(`workers took ${chunks.join(' + ')} chunks in ${Date.now() - t0} ms`);
const ok = primes.load() === fromTasks && numbers.load() === CHUNKS * CHUNK && meter.get().count === CHUNKS;
console.log(`progress: ${WORKERS} workers counted ${primes.load()} primes below ${CHUNKS * CHUNK} (atomic counter ${primes.load()} = sum of task results ${fromTasks}), meter ${meter.get().count}/${CHUNKS} chunks: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
