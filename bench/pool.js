// Task-dispatch benchmarks for go() (issue 9): weft's pool against piscina and tinypool, each
// case in its own child process (bench/case.js), so each pool is the only one in its process.
// A case here has `run({ n, weft })` instead of workers and roles (bench/lib.js runOnce).
import { availableParallelism } from 'node:os';
import { QUICK, median } from './lib.js';

const TASKS = new URL('./tasks.mjs', import.meta.url);
const THREADS = 2;
const BURST = QUICK ? 10_000 : 100_000;
const RTT = QUICK ? 300 : 3_000;
const RTT_WARM = QUICK ? 2_000 : 20_000;
const CHUNKS = 64;
const { SHA_PASSES } = await import(TASKS.href);

async function piscinaPool() {
  const { Piscina } = await import('piscina');
  const p = new Piscina({ filename: TASKS.href, minThreads: THREADS, maxThreads: THREADS });
  return { run: (x) => p.run(x), close: () => p.destroy() };
}
async function tinypoolPool() {
  const { Tinypool } = await import('tinypool');
  const p = new Tinypool({ filename: TASKS.href, minThreads: THREADS, maxThreads: THREADS });
  return { run: (x) => p.run(x), close: () => p.destroy() };
}
function weftPool(weft) {
  weft.configure({ threads: THREADS });
  return { run: (x) => weft.go(TASKS, 'add2', x), close: () => weft.shutdown() };
}

/**
 * All of `n` tiny tasks submitted, then awaited; ns per task. Warms the pool first, with the
 * same burst untimed: after 3,000 tasks in rounds of 1,000, V8 still optimized about 127
 * functions (1.07 s of TurboFan work on its helper threads) during weft's 1.4 s timed burst,
 * and after 30,000 in rounds, 77 (0.44 s) (--trace-opt, 2 cores); among them were functions
 * deoptimized for "insufficient type feedback" on paths the rounds had not taken. Every pool
 * gets the same warm-up.
 */
async function burst(pool, n) {
  for (let w = 0; w < 3; w++) await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.run({ a: i, b: 1 })));
  const warm = new Array(n);
  for (let i = 0; i < n; i++) warm[i] = pool.run({ a: i, b: 1 });
  await Promise.all(warm);
  const t0 = process.hrtime.bigint();
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = pool.run({ a: i, b: 1 });
  const rs = await Promise.all(ps);
  const elapsedNs = Number(process.hrtime.bigint() - t0);
  let sum = 0;
  for (const r of rs) sum += r;
  if (sum !== (n * (n - 1)) / 2 + n) throw new Error(`check failed: sum ${sum}`);
  await pool.close();
  return { elapsedNs, nsPerOp: elapsedNs / n, value: elapsedNs / n, extra: { tasksPerSec: 1e9 / (elapsedNs / n) } };
}

/**
 * One tiny task at a time, `n` round trips; the median latency in µs. Both pools first make
 * RTT_WARM untimed round trips: weft's path runs JavaScript on three isolates (the caller, a
 * pool thread, and the reply loop's side of both), and its median per 3,000 round trips fell
 * from 36-78 µs in the first 3,000 to 7-16 µs after 12,000-15,000 (V8 optimizing the path on
 * each thread; 12 rounds of 3,000, 2 threads, measured here), while piscina's stayed at 44-50
 * µs from the first 3,000 on. 200 warm-up trips measured weft's warm-up, not its latency.
 */
async function roundTrip(pool, n) {
  for (let w = 0; w < RTT_WARM; w++) await pool.run({ a: w, b: 1 });
  const lat = new Float64Array(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    if ((await pool.run({ a: i, b: 1 })) !== i + 1) throw new Error('check failed');
    lat[i] = Number(process.hrtime.bigint() - s) / 1e3;
  }
  const elapsedNs = Number(process.hrtime.bigint() - t0);
  await pool.close();
  return { elapsedNs, nsPerOp: elapsedNs / n, value: median([...lat]), extra: { p99: [...lat].sort((a, b) => a - b)[Math.floor(n * 0.99)] } };
}

/** RSS growth (MiB) from starting a pool of THREADS threads that ran one task each and went idle. */
async function idleRss(pool) {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  await Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => pool.run({ a: i, b: 1 })));
  await new Promise((r) => setTimeout(r, 1500));
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  await pool.close();
  return { elapsedNs: 1, nsPerOp: 1, value: (after - before) / 2 ** 20 };
}

export const POOL_CASES = {
  'pool.weft': {
    title: `go(): ${BURST.toLocaleString('en-US')} tiny tasks ({a,b}) => a+b submitted then awaited, ${THREADS} threads (per task)`,
    weft: true, fixed: true, n0: BURST, quickN: BURST, step: 1, maxRuns: 5,
    extras: { tasksPerSec: { label: 'tasks/s', unit: 'count' } },
    run: ({ n, weft }) => burst(weftPool(weft), n),
  },
  'pool.piscina': {
    title: `piscina: same ${BURST.toLocaleString('en-US')} tasks, ${THREADS} threads (per task)`,
    fixed: true, n0: BURST, quickN: BURST, step: 1, maxRuns: 3,
    extras: { tasksPerSec: { label: 'tasks/s', unit: 'count' } },
    run: async ({ n }) => burst(await piscinaPool(), n),
  },
  'pool.tinypool': {
    title: `tinypool: same ${BURST.toLocaleString('en-US')} tasks, ${THREADS} threads (per task)`,
    fixed: true, n0: BURST, quickN: BURST, step: 1, maxRuns: 3,
    extras: { tasksPerSec: { label: 'tasks/s', unit: 'count' } },
    run: async ({ n }) => burst(await tinypoolPool(), n),
  },
  'pool.weftRtt': {
    title: `go(): one tiny task at a time from main, round trip (median of ${RTT.toLocaleString('en-US')})`,
    weft: true, fixed: true, n0: RTT, quickN: RTT, step: 1, unit: 'µs',
    extras: { p99: { label: 'p99', unit: 'µs' } },
    run: ({ n, weft }) => roundTrip(weftPool(weft), n),
  },
  'pool.piscinaRtt': {
    title: `piscina: one tiny task at a time, round trip (median of ${RTT.toLocaleString('en-US')})`,
    fixed: true, n0: RTT, quickN: RTT, step: 1, unit: 'µs',
    extras: { p99: { label: 'p99', unit: 'µs' } },
    run: async ({ n }) => roundTrip(await piscinaPool(), n),
  },
  'pool.cpu': {
    title: `go(): SHA-256 of ${CHUNKS} × 1 MiB chunks (${SHA_PASSES} passes each, one task per chunk) on ${THREADS} threads: speed-up over one thread (×)`,
    weft: true, fixed: true, n0: CHUNKS, quickN: CHUNKS, step: 1, unit: '×', maxRuns: 5,
    extras: { singleMs: { label: 'one thread', unit: 'ms' }, poolMs: { label: 'pool', unit: 'ms' } },
    run: async ({ n, weft }) => {
      const { shaChunk } = await import(TASKS.href);
      weft.configure({ threads: THREADS });
      // Warm both sides alike before timing: the whole job once on this thread, twice on the
      // pool (each pool thread is its own isolate with its own JIT; a thread that met the
      // kernel only a couple of times would be timed while still tiering up).
      for (let i = 0; i < n; i++) shaChunk(i);
      for (let w = 0; w < 2; w++) await Promise.all(Array.from({ length: n }, (_, i) => weft.go(TASKS, 'shaChunk', i)));
      let t = process.hrtime.bigint();
      const single = [];
      for (let i = 0; i < n; i++) single.push(shaChunk(i));
      const singleNs = Number(process.hrtime.bigint() - t);
      t = process.hrtime.bigint();
      const pooled = await Promise.all(Array.from({ length: n }, (_, i) => weft.go(TASKS, 'shaChunk', i)));
      const poolNs = Number(process.hrtime.bigint() - t);
      if (pooled.join() !== single.join()) throw new Error('check failed: digests differ');
      await weft.shutdown();
      return { elapsedNs: poolNs, nsPerOp: poolNs / n, value: singleNs / poolNs, extra: { singleMs: singleNs / 1e6, poolMs: poolNs / 1e6 } };
    },
  },
  'pool.weftRss': {
    title: `go(): RSS added by an idle pool of ${THREADS} threads (MiB; pool threads and sysmon)`,
    weft: true, fixed: true, n0: 1, quickN: 1, step: 1, unit: 'MiB', maxRuns: 3,
    run: ({ weft }) => idleRss(weftPool(weft)),
  },
  'pool.piscinaRss': {
    title: `piscina: RSS added by an idle pool of ${THREADS} threads (MiB)`,
    fixed: true, n0: 1, quickN: 1, step: 1, unit: 'MiB', maxRuns: 3,
    run: async () => idleRss(await piscinaPool()),
  },
};

const faster = (label, factor) => ({
  text: `≥ ${factor}× faster than ${label}`,
  eval: (w, b) => (b[label] === undefined ? null : b[label] / w >= factor),
  miss: (w, b) => `${(b[label] / w).toFixed(2)}× ${label}`,
});

export const POOL_ROWS = [
  {
    title: `9.1 go(): ${BURST.toLocaleString('en-US')} tiny tasks submitted then awaited (per task), ${THREADS} threads`,
    weft: 'pool.weft', info: ['tasksPerSec'],
    baselines: { piscina: 'pool.piscina', tinypool: 'pool.tinypool' },
    targets: [faster('piscina', 5), faster('tinypool', 5)],
  },
  {
    title: '9.2 go(): one tiny task round trip from main, median latency',
    weft: 'pool.weftRtt', info: ['p99'],
    baselines: { piscina: 'pool.piscinaRtt' },
    targets: [faster('piscina', 2)],
  },
  {
    title: `9.3 go(): CPU-bound job (SHA-256, ${CHUNKS} × 1 MiB, ${SHA_PASSES} passes each) on ${THREADS} threads, speed-up over one thread (nproc ${availableParallelism()})`,
    weft: 'pool.cpu', info: ['singleMs', 'poolMs'],
    targets: [{ text: '≥ 1.8×', eval: (w) => w >= 1.8, miss: (w) => `${w.toFixed(2)}× < 1.8×` }],
  },
  {
    title: `9.4 go(): RSS of an idle pool of ${THREADS} threads (report beside piscina's)`,
    weft: 'pool.weftRss',
    baselines: { piscina: 'pool.piscinaRss' },
    targets: [{ text: 'reported', eval: () => true, miss: () => '' }],
  },
];
