// npm start: producers and consumers on worker threads move a million values through weft
// channels; the same traffic through postMessage is measured in the same run for comparison.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Chan, share } from 'weft';

const TOTAL = 1_000_000;
const PRODUCERS = 2;
const CONSUMERS = 2;
const BATCH = 256;

const worker = (code, workerData) =>
  new Worker(code, { eval: true, workerData });

// Every worker reports ready and waits for the start signal (a closed channel), so both runs
// time the transfer itself, not thread start-up.
const producer = `
import { workerData } from 'node:worker_threads';
import { attach } from 'weft';
const { jobs, from, to, batch, ready, start } = attach(workerData);
ready.sendSync(1);
start.recvSync();
const buf = new Float64Array(batch);
for (let i = from; i < to; i += batch) {
  const n = Math.min(batch, to - i);
  for (let j = 0; j < n; j++) buf[j] = i + j;
  jobs.sendManySync(n === batch ? buf : buf.subarray(0, n));
}
`;

const consumer = `
import { workerData } from 'node:worker_threads';
import { attach } from 'weft';
const { jobs, results, batch, ready, start } = attach(workerData);
ready.sendSync(1);
start.recvSync();
let count = 0, sum = 0;
for (;;) {
  const got = jobs.recvManySync(batch);
  if (got.length === 0) break;           // closed and drained
  for (let i = 0; i < got.length; i++) sum += got[i];
  count += got.length;
}
results.sendSync({ count, sum });
`;

async function weftRun() {
  const jobs = new Chan(4096, { elem: 'f64', name: 'jobs' });
  const results = new Chan(CONSUMERS, { name: 'results' });
  const ready = new Chan(PRODUCERS + CONSUMERS);
  const start = new Chan();
  const per = TOTAL / PRODUCERS;
  const ps = [];
  for (let p = 0; p < PRODUCERS; p++) {
    const w = worker(producer, share({ jobs, from: p * per, to: (p + 1) * per, batch: BATCH, ready, start }));
    ps.push(new Promise((r) => w.once('exit', r)));
  }
  for (let c = 0; c < CONSUMERS; c++) worker(consumer, share({ jobs, results, batch: BATCH, ready, start }));
  for (let i = 0; i < PRODUCERS + CONSUMERS; i++) await ready.recv();
  const t0 = performance.now();
  start.close();
  await Promise.all(ps);
  jobs.close();
  let count = 0, sum = 0;
  for (let c = 0; c < CONSUMERS; c++) {
    const r = await results.recv();
    count += r.count;
    sum += r.sum;
  }
  return { ms: performance.now() - t0, count, sum };
}

async function postMessageRun() {
  // One producer worker posts batches of the same size to one consumer worker through a
  // MessageChannel (postMessage cannot fan out to competing consumers).
  const { port1, port2 } = new MessageChannel();
  const prod = new Worker(`
    import { workerData, parentPort } from 'node:worker_threads';
    const { port, total, batch } = workerData;
    parentPort.postMessage('ready');
    await new Promise((r) => parentPort.once('message', r));
    for (let i = 0; i < total; i += batch) {
      const buf = new Float64Array(Math.min(batch, total - i));
      for (let j = 0; j < buf.length; j++) buf[j] = i + j;
      port.postMessage(buf);
    }
    port.postMessage(null);
  `, { eval: true, workerData: { port: port1, total: TOTAL, batch: BATCH }, transferList: [port1] });
  const cons = new Worker(`
    import { workerData, parentPort } from 'node:worker_threads';
    let count = 0, sum = 0;
    parentPort.postMessage('ready');
    workerData.port.on('message', (m) => {
      if (m === null) { parentPort.postMessage({ count, sum }); workerData.port.close(); return; }
      for (let i = 0; i < m.length; i++) sum += m[i];
      count += m.length;
    });
  `, { eval: true, workerData: { port: port2 }, transferList: [port2] });
  await Promise.all([prod, cons].map((w) => new Promise((r) => w.once('message', r))));
  const t0 = performance.now();
  prod.postMessage('go');
  const r = await new Promise((res) => cons.once('message', res));
  await prod.terminate();
  await cons.terminate();
  return { ms: performance.now() - t0, ...r };
}

const expectedSum = (TOTAL * (TOTAL - 1)) / 2;
console.log(`weft demo: ${TOTAL.toLocaleString()} values, ${PRODUCERS} producer and ${CONSUMERS} consumer worker threads, ${availableParallelism()} cores`);
const w = await weftRun();
console.log(`  weft channel (f64, sendManySync/recvManySync x${BATCH}): ${w.ms.toFixed(0)} ms, ${(TOTAL / w.ms / 1000).toFixed(1)} M values/s, count ok: ${w.count === TOTAL && w.sum === expectedSum}`);
const p = await postMessageRun();
console.log(`  postMessage (Float64Array batches of ${BATCH}, 1 -> 1):        ${p.ms.toFixed(0)} ms, ${(TOTAL / p.ms / 1000).toFixed(1)} M values/s, count ok: ${p.count === TOTAL && p.sum === expectedSum}`);
const single = await (async () => {
  const ch = new Chan(1024, { elem: 'f64' });
  const ready = new Chan(1);
  const start = new Chan();
  const n = 200_000;
  worker(`
    import { workerData } from 'node:worker_threads';
    import { attach } from 'weft';
    const { ch, n, ready, start } = attach(workerData);
    ready.sendSync(1);
    start.recvSync();
    for (let i = 0; i < n; i++) ch.sendSync(i);
    ch.close();
  `, share({ ch, n, ready, start }));
  await ready.recv();
  const t0 = performance.now();
  start.close();
  let count = 0;
  for await (const v of ch) count++;
  return { ms: performance.now() - t0, count, n };
})();
console.log(`  one value per op, worker -> main (for await):            ${(single.ms * 1e6 / single.n).toFixed(0)} ns/value, count ok: ${single.count === single.n}`);
