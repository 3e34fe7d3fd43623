// npm start — what weft is for, in a few seconds.
//
// A CPU-bound CSV pipeline (the book's ch. 5: parse → convert → encode, rows
// `id,height_cm,weight_kg,name` → BMI and category → output CSV) over generated data, run three
// ways on the same functions (examples/lib/demo-rows.js):
//   1. weft: stages are go() tasks on every core, connected by weft channels, with a live
//      progress bar fed by a ProgressMeter that the worker threads update;
//   2. the same work on one thread;
//   3. the same pipeline on hand-written worker_threads connected by postMessage.
// All three must compute the same checksum.
//
//   node examples/demo.js [rows]          (or DEMO_ROWS=50000; DEMO_BATCH sets rows per message)
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Chan, ProgressMeter, go, shutdown } from 'weft';
import { generate, parse, convert, encode, batchRange } from './lib/demo-rows.js';

const ROWS = Number(process.argv[2] ?? process.env.DEMO_ROWS ?? 1_000_000);
const BATCH = Number(process.env.DEMO_BATCH ?? 5_000);
if (!Number.isSafeInteger(ROWS) || ROWS < 1) throw new RangeError(`rows must be a positive integer, got ${process.argv[2] ?? process.env.DEMO_ROWS}`);
if (!Number.isSafeInteger(BATCH) || BATCH < 1) throw new RangeError(`DEMO_BATCH must be a positive integer, got ${process.env.DEMO_BATCH}`);
const CORES = availableParallelism();
const TTY = process.stdout.isTTY === true;
const STAGES = new URL('./lib/demo-stages.js', import.meta.url);
const PM_WORKER = new URL('./lib/demo-pm-worker.js', import.meta.url);
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

// ---- 1. weft: go() tasks connected by channels -----------------------------------------------

async function weftRun(rows, meter) {
  const batches = Math.ceil(rows / BATCH);
  const jobs = new Chan(batches, { elem: 'i32', name: 'jobs' });
  const parsed = new Chan(4 * CORES, { name: 'parsed' });
  const converted = new Chan(4 * CORES, { name: 'converted' });
  const start = (n, name, ...args) => Array.from({ length: n }, () => go(STAGES, name, ...args));
  // Close a stage's output once all its workers are done (Go: wg.Wait(); close(out)).
  const closeWhenDone = (tasks, out) => Promise.allSettled(tasks).then(() => out.close());

  const parsers = start(CORES, 'parseStage', jobs, parsed, BATCH, rows);
  const converters = start(CORES, 'convertStage', parsed, converted);
  const encoders = start(CORES, 'encodeStage', converted, meter);
  closeWhenDone(parsers, parsed);
  closeWhenDone(converters, converted);
  await jobs.sendMany(Int32Array.from({ length: batches }, (_, i) => i));
  jobs.close();
  await Promise.all([...parsers, ...converters]);
  const parts = await Promise.all(encoders);
  return parts.reduce((a, p) => ({ rows: a.rows + p.rows, sum: a.sum + p.sum }), { rows: 0, sum: 0 });
}

// ---- 2. one thread -------------------------------------------------------------------------

async function singleRun(rows, progress) {
  let total = 0;
  let sum = 0;
  for (let b = 0; b * BATCH < rows; b++) {
    const [from, count] = batchRange(b, BATCH, rows);
    const r = encode(convert(parse(generate(from, count))));
    total += r.rows;
    sum += r.sum;
    progress.done = total;
    if (b % 8 === 7) await new Promise(setImmediate); // let the progress bar draw
  }
  return { rows: total, sum };
}

// ---- 3. hand-written postMessage workers -----------------------------------------------------

/**
 * `CORES` lanes of three workers (parse → convert → encode) chained by MessageChannels; the main
 * thread deals batches to the lanes round robin and collects the results. postMessage has no
 * queue several workers can take from, so the work is split up front.
 */
async function startLanes(total) {
  const workers = [];
  const lanes = [];
  for (let l = 0; l < CORES; l++) {
    const head = new MessageChannel();
    const a = new MessageChannel();
    const b = new MessageChannel();
    const tail = new MessageChannel();
    const spawn = (stage, input, output) => {
      const w = new Worker(PM_WORKER, { workerData: { stage, input, output, size: BATCH, total }, transferList: [input, output] });
      workers.push(w);
      return new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    };
    lanes.push({ ready: [spawn('parse', head.port2, a.port1), spawn('convert', a.port2, b.port1), spawn('encode', b.port2, tail.port1)], input: head.port1, output: tail.port2 });
  }
  await Promise.all(lanes.flatMap((l) => l.ready));
  return { workers, lanes };
}

async function postMessageRun({ lanes }, rows, progress) {
  let total = 0;
  let sum = 0;
  let ended = 0;
  const done = new Promise((resolve) => {
    for (const lane of lanes) {
      lane.output.on('message', (m) => {
        if (m === 'end') {
          if (++ended === lanes.length) resolve();
          return;
        }
        total += m.rows;
        sum += m.sum;
        progress.done = total;
      });
    }
  });
  for (let b = 0; b * BATCH < rows; b++) lanes[b % lanes.length].input.postMessage(b);
  for (const lane of lanes) lane.input.postMessage('end');
  await done;
  for (const lane of lanes) lane.output.removeAllListeners('message');
  return { rows: total, sum };
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
const pm = await startLanes(ROWS);
for (let i = 0; i < 2; i++) {
  await weftRun(WARMUP_ROWS, new ProgressMeter());
  await singleRun(WARMUP_ROWS, {});
  const pmWarm = await postMessageRun(pm, WARMUP_ROWS, {});
  if (pmWarm.rows !== WARMUP_ROWS) throw new Error('postMessage warm-up lost rows');
}

const meter = new ProgressMeter();
const weft = await timed(`weft, ${CORES} threads`, () => weftRun(ROWS, meter), () => meter.get().count);
const single = { done: 0 };
const one = await timed('single thread', () => singleRun(ROWS, single), () => single.done);
const posted = { done: 0 };
const pmr = await timed(`postMessage, ${pm.workers.length} workers`, () => postMessageRun(pm, ROWS, posted), () => posted.done);
await Promise.all(pm.workers.map((w) => w.terminate()));
await shutdown();

const rows = [
  [`weft go() + channels (${CORES} threads)`, weft],
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
const same = rows.every(([, r]) => r.sum === weft.sum && r.rows === ROWS);
console.log('');
console.log(`weft: ${(one.ms / weft.ms).toFixed(2)}x the single thread, ${(pmr.ms / weft.ms).toFixed(2)}x postMessage workers`);
console.log('(CPU time counts every thread of the process; on a machine busy with other work the wall times move, CPU time much less)');
console.log(`checksums ${same ? 'match' : 'DIFFER'}: ${hex(weft.sum)} over ${ROWS} rows`);
if (!same) process.exitCode = 1;
