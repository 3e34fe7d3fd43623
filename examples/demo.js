// npm start — what weft is for, in a few seconds.
//
// A CPU-bound CSV pipeline (the book's ch. 5: parse → convert → encode, rows
// `id,height_cm,weight_kg,name` → BMI and category → output CSV) over generated data, run three
// ways on the same functions (examples/lib/demo-rows.js; the variants are in
// examples/lib/demo-pipeline.js, which `npm run bench` measures too):
//   1. weft: a go() task per core takes batch numbers from a weft channel and runs each batch
//      through the stages (on 2 cores this beats a task per stage: no hand-offs; the
//      stage-per-task chain is weftPipeline's shape 'chain'), with a live progress bar fed by a
//      ProgressMeter that the pool threads update;
//   2. the same work on one thread;
//   3. the same pipeline on hand-written worker_threads connected by postMessage (batches
//      transferred).
// All three must compute the same checksum.
//
//   node examples/demo.js [rows]          (or DEMO_ROWS=50000; DEMO_BATCH sets rows per message)
import { availableParallelism } from 'node:os';
import * as weft from 'weft';
import { weftPipeline, singlePipeline, postMessageLanes } from './lib/demo-pipeline.js';

const { ProgressMeter, shutdown } = weft;

const ROWS = Number(process.argv[2] ?? process.env.DEMO_ROWS ?? 1_000_000);
const BATCH = Number(process.env.DEMO_BATCH ?? 5_000);
if (!Number.isSafeInteger(ROWS) || ROWS < 1) throw new RangeError(`rows must be a positive integer, got ${process.argv[2] ?? process.env.DEMO_ROWS}`);
if (!Number.isSafeInteger(BATCH) || BATCH < 1) throw new RangeError(`DEMO_BATCH must be a positive integer, got ${process.env.DEMO_BATCH}`);
const CORES = availableParallelism();
const TTY = process.stdout.isTTY === true;
const WARMUP_ROWS = Math.min(ROWS, 150_000);

const fmtRows = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n}`);

/**
 * Shows how far a run is: a bar redrawn in place on a terminal; otherwise (a pipe, a log, CI)
 * plain lines at each quarter. `read()` returns the rows done so far.
 */
function showProgress(label, total, read) {
  let quarters = 0;
  const draw = () => {
    const done = read();
    const frac = Math.min(1, done / total);
    if (TTY) {
      const width = 30;
      const fill = Math.round(frac * width);
      process.stdout.write(`\r  ${label.padEnd(24)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${fmtRows(done)} rows `);
    } else {
      const q = Math.floor(frac * 4);
      if (q > quarters) {
        quarters = q;
        console.log(`  ${label}: ${Math.floor(frac * 100)}% (${done} of ${total} rows)`);
      }
    }
  };
  const timer = setInterval(draw, 50);
  return () => {
    clearInterval(timer);
    draw();
    if (TTY) process.stdout.write('\n');
  };
}

// ---- run and compare ------------------------------------------------------------------------

/** Runs one variant with its progress display; measures wall time and CPU time (all threads). */
async function timed(label, run, read) {
  const stop = showProgress(label, ROWS, read);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  stop();
  return { label, ms, cpuMs: (cpu.user + cpu.system) / 1000, ...r };
}

console.log(`weft demo: CSV pipeline (generate → parse → convert → encode), ${ROWS} rows in batches of ${BATCH}, ${CORES} cores`);
if (!TTY) console.log('(stdout is not a terminal: plain progress lines)');

// Warm-up: start the pool threads and the postMessage workers, and let every thread compile
// the functions (JIT) on a smaller run, twice, since the stages are spread over several threads
// that each compile the code they run. The timings below then compare the pipelines themselves.
console.log(`warming up (thread start-up and JIT compilation: each variant twice on ${WARMUP_ROWS} rows; not timed)...`);
const pm = await postMessageLanes({ batch: BATCH, lanes: CORES });
const weftRun = (rows, meter) => weftPipeline(weft, rows, { batch: BATCH, threads: CORES, meter });
for (let i = 0; i < 2; i++) {
  await weftRun(WARMUP_ROWS, new ProgressMeter());
  await singlePipeline(WARMUP_ROWS, { batch: BATCH });
  const pmWarm = await pm.run(WARMUP_ROWS);
  if (pmWarm.rows !== WARMUP_ROWS) throw new Error('postMessage warm-up lost rows');
}

const meter = new ProgressMeter();
const wr = await timed(`weft, ${CORES} threads`, () => weftRun(ROWS, meter), () => meter.get().count);
const single = { done: 0 };
const one = await timed('single thread', () => singlePipeline(ROWS, { batch: BATCH, progress: single }), () => single.done);
const posted = { done: 0 };
const pmr = await timed(`postMessage, ${pm.workers.length} workers`, () => pm.run(ROWS, posted), () => posted.done);
await pm.close();
await shutdown();

const rows = [
  [`weft go() + channels (${CORES} threads)`, wr],
  ['same work, single thread', one],
  [`postMessage workers (${pm.workers.length})`, pmr],
];
const hex = (s) => s.toString(16).padStart(14, '0');
console.log('');
console.log(`  ${'variant'.padEnd(36)} ${'time'.padStart(8)} ${'rows/s'.padStart(9)} ${'vs 1 thread'.padStart(12)} ${'CPU time'.padStart(9)}  checksum`);
for (const [name, r] of rows) {
  const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`  ${name.padEnd(36)} ${secs(r.ms).padStart(8)} ${fmtRows(Math.round((r.rows / r.ms) * 1000)).padStart(9)} ${`${(one.ms / r.ms).toFixed(2)}x`.padStart(12)} ${secs(r.cpuMs).padStart(9)}  ${hex(r.sum)}`);
}
const same = rows.every(([, r]) => r.sum === wr.sum && r.rows === ROWS);
console.log('');
console.log(`weft: ${(one.ms / wr.ms).toFixed(2)}x the single thread, ${(pmr.ms / wr.ms).toFixed(2)}x postMessage workers`);
console.log('(CPU time counts every thread of the process; on a machine busy with other work the wall times move, CPU time much less)');
console.log(`checksums ${same ? 'match' : 'DIFFER'}: ${hex(wr.sum)} over ${ROWS} rows`);
if (!same) process.exitCode = 1;
