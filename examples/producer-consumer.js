// The producer-consumer problem (Effective Concurrency in Go, ch. 4), on worker threads.
//
// Several producers send into one buffered channel and several consumers take from it; each
// value goes to exactly one consumer. Go closes the channel once every producer is done
// (a WaitGroup and a closer goroutine), and consumers `range` over the channel until it is
// closed and drained. Here producers and consumers are go() tasks on weft's pool threads.
//
//   node examples/producer-consumer.js [producers] [consumers] [valuesPerProducer]
import { Chan, WaitGroup, go } from 'weft';

const PRODUCERS = Number(process.argv[2] ?? 3);
const CONSUMERS = Number(process.argv[3] ?? 2);
const PER_PRODUCER = Number(process.argv[4] ?? 10_000);
const tasks = new URL('./lib/producer-consumer.js', import.meta.url);

const ch = new Chan(64, { name: 'values' });
const wg = new WaitGroup();

wg.add(PRODUCERS);
const producers = [];
for (let p = 0; p < PRODUCERS; p++) producers.push(go(tasks, 'producer', p, PER_PRODUCER, ch, wg));
const consumers = [];
for (let c = 0; c < CONSUMERS; c++) consumers.push(go(tasks, 'consumer', c, ch));

// The closer: once every producer is done, close the channel so the consumers' loops end.
await wg.wait();
ch.close();
console.log('all producers done, channel closed');

await Promise.all(producers);
let received = 0;
let sum = 0;
let outOfOrder = 0;
for (const r of await Promise.all(consumers)) {
  console.log(`consumer ${r.id} (thread ${r.thread}) received ${r.received} values`);
  received += r.received;
  sum += r.sum;
  outOfOrder += r.outOfOrder;
}

// Every value was received exactly once: the count and the sum match what was sent.
const produced = PRODUCERS * PER_PRODUCER;
let expectedSum = 0;
for (let p = 0; p < PRODUCERS; p++) expectedSum += p * 1_000_000 * PER_PRODUCER + (PER_PRODUCER * (PER_PRODUCER - 1)) / 2;
const ok = received === produced && sum === expectedSum && outOfOrder === 0;
console.log(`producer-consumer: ${PRODUCERS} producers sent ${produced}, ${CONSUMERS} consumers received ${received}, sum ${sum === expectedSum ? 'matches' : 'DIFFERS'}, out of order ${outOfOrder}: ${ok ? 'ok' : 'FAILED'}`);
if (!ok) process.exitCode = 1;
