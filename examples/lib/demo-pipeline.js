// The three variants of the demo's CSV pipeline (generate → parse → convert → encode over the
// functions of demo-rows.js), shared by `npm start` (examples/demo.js) and `npm run bench`
// (bench/patterns.js), so both measure the same code:
//   weftPipeline      go() tasks on the pool fed by a weft channel: lanes that run whole batches
//                     through the stages, or (shape 'chain') a task per stage, connected by
//                     channels that carry slot numbers of a shared arena (demo-stages.js);
//   singlePipeline    the same functions on one thread;
//   postMessageLanes  the same stages on hand-written worker_threads connected by MessagePorts,
//                     batches transferred (demo-pm-worker.js).
// Each returns { rows, sum }; the sums (a checksum of the output text) must be equal.
import { Worker } from 'node:worker_threads';
import { generate, parse, convert, encode, batchRange, columns, outputBuffer } from './demo-rows.js';

const STAGES = new URL('./demo-stages.js', import.meta.url);
const PM_WORKER = new URL('./demo-pm-worker.js', import.meta.url);

/** Adds up the stages' { rows, sum } results. */
const total = (parts) => parts.reduce((a, p) => ({ rows: a.rows + p.rows, sum: a.sum + p.sum }), { rows: 0, sum: 0 });

/**
 * weft: go() tasks on the pool, batch numbers dealt out on an 'i32' channel, `meter` (a
 * ProgressMeter) updated from the pool threads as batches finish. Two shapes:
 *  - `shape: 'lanes'` (default): `threads` tasks each run whole batches through every stage
 *    (laneStage); no data crosses threads;
 *  - `shape: 'chain'`: `threads` tasks per stage (M:N: a pool thread runs whichever of its
 *    stages has work), batches handed from stage to stage as slot numbers of a shared arena.
 * @param weft the weft module (`import * as weft from 'weft'`)
 */
export async function weftPipeline(weft, rows, { batch, threads, meter, shape = 'lanes' }) {
  const { Chan, go } = weft;
  const batches = Math.ceil(rows / batch);
  const jobs = new Chan(batches, { elem: 'i32', name: 'jobs' });
  await jobs.sendMany(Int32Array.from({ length: batches }, (_, i) => i));
  jobs.close();
  const start = (name, ...args) => Array.from({ length: threads }, () => go(STAGES, name, ...args));
  if (shape === 'lanes') return total(await Promise.all(start('laneStage', jobs, meter, batch, rows)));
  if (shape !== 'chain') throw new RangeError(`shape must be 'lanes' or 'chain', got ${shape}`);

  const { arena } = await import(STAGES.href);
  const slots = 4 * threads;
  const where = arena(slots, batch);
  const free = new Chan(slots, { elem: 'i32', name: 'free slots' });
  const parsed = new Chan(slots, { elem: 'i32', name: 'parsed' });
  const converted = new Chan(slots, { elem: 'i32', name: 'converted' });
  await free.sendMany(Int32Array.from({ length: slots }, (_, i) => i));
  // Close a stage's output once all its tasks are done (Go: wg.Wait(); close(out)).
  const closeWhenDone = (tasks, out) => Promise.allSettled(tasks).then(() => out.close());
  const parsers = start('parseStage', where, jobs, free, parsed, rows);
  const converters = start('convertStage', where, parsed, converted);
  const encoders = start('encodeStage', where, converted, free, meter);
  closeWhenDone(parsers, parsed);
  closeWhenDone(converters, converted);
  await Promise.all([...parsers, ...converters]);
  return total(await Promise.all(encoders));
}

/**
 * The same work on this thread, batch by batch, reusing one column set and text buffers.
 * `progress.done` is the rows done so far; every 8 batches the event loop gets a turn (to draw).
 */
export async function singlePipeline(rows, { batch, progress = {} }) {
  const cols = columns(batch);
  const input = new Uint8Array(batch * 40);
  const output = outputBuffer(batch);
  let done = 0;
  let sum = 0;
  for (let b = 0; b * batch < rows; b++) {
    const [from, count] = batchRange(b, batch, rows);
    const n = parse(generate(from, count, input), cols);
    convert(cols, n);
    const r = encode(cols, n, output);
    done += r.rows;
    sum += r.sum;
    progress.done = done;
    if (b % 8 === 7) await new Promise(setImmediate);
  }
  return { rows: done, sum };
}

/**
 * Starts `lanes` lanes of three workers (parse → convert → encode) chained by MessageChannels
 * (`fused`: of one worker running every stage, the shape of weft's lanes); resolves once every
 * worker is ready. postMessage has no queue several workers can take from,
 * so `run` deals the batches to the lanes round robin up front and collects the results.
 * Returns { workers, run(rows, progress), close() }.
 */
export async function postMessageLanes({ batch, lanes: count, fused = false }) {
  const workers = [];
  const lanes = [];
  for (let l = 0; l < count; l++) {
    const head = new MessageChannel();
    const a = new MessageChannel();
    const b = new MessageChannel();
    const tail = new MessageChannel();
    const spawn = (stage, input, output) => {
      const w = new Worker(PM_WORKER, { workerData: { stage, input, output, size: batch }, transferList: [input, output] });
      workers.push(w);
      return new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    };
    if (fused) {
      lanes.push({ ready: [spawn('all', head.port2, tail.port1)], input: head.port1, output: tail.port2 });
      continue;
    }
    lanes.push({
      ready: [spawn('parse', head.port2, a.port1), spawn('convert', a.port2, b.port1), spawn('encode', b.port2, tail.port1)],
      input: head.port1,
      output: tail.port2,
    });
  }
  await Promise.all(lanes.flatMap((l) => l.ready));

  async function run(rows, progress = {}) {
    let done = 0;
    let sum = 0;
    let ended = 0;
    const finished = new Promise((resolve) => {
      for (const lane of lanes) {
        lane.output.on('message', (m) => {
          if (m === 'end') {
            if (++ended === lanes.length) resolve();
            return;
          }
          done += m.rows;
          sum += m.sum;
          progress.done = done;
        });
      }
    });
    for (let b = 0; b * batch < rows; b++) lanes[b % lanes.length].input.postMessage([b, rows]);
    for (const lane of lanes) lane.input.postMessage('end');
    await finished;
    for (const lane of lanes) lane.output.removeAllListeners('message');
    return { rows: done, sum };
  }

  const close = () => Promise.all(workers.map((w) => w.terminate()));
  return { workers, run, close };
}
