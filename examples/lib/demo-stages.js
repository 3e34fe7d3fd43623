// The stages of the demo's weft pipeline (examples/lib/demo-pipeline.js). Each runs as a go()
// task on weft's pool; consecutive stages are connected by weft channels.
//
// A batch does not travel by value: its columns live in a slot of a SharedArrayBuffer arena
// (see arena()) that every stage holds, and the channels carry slot numbers ('i32' channels:
// no serialization, a few hundred ns per message). A `free` channel holds the slots nobody is
// using (Go's buffer-pool idiom): parse takes one, encode gives it back, so the arena bounds the
// memory in flight. The channel hand-off orders one stage's writes to a slot before the next
// stage's reads (a send happens before the receive that takes the value).
//
// The stages are async: a stage awaits its input, so a pool thread runs every stage that has
// work while the others wait (go()'s M:N scheduling), and the pipeline uses each core without
// starting a thread per stage.
import { generate, parse, convert, encode, batchRange, columns, columnBytes, outputBuffer } from './demo-rows.js';

/** Bytes between slots: a column set, rounded up so each slot's 8-byte columns stay aligned. */
const stride = (size) => Math.ceil(columnBytes(size) / 8) * 8;

/**
 * A shared arena of `slots` column sets of `size` rows each, plus one row count per slot: a
 * plain object holding a SharedArrayBuffer, so go() arguments share it (no copy).
 */
export function arena(slots, size) {
  return { sab: new SharedArrayBuffer(slots * stride(size) + slots * 4), slots, size };
}

/** This thread's views of an arena: `cols[slot]` and `counts[slot]` (rows in the slot). */
function open({ sab, slots, size }) {
  const cols = Array.from({ length: slots }, (_, s) => columns(size, sab, s * stride(size)));
  return { cols, counts: new Int32Array(sab, slots * stride(size), slots), size };
}

/** Takes batch numbers from `jobs`, generates and parses each into a free slot, sends the slot on. */
export async function parseStage(where, jobs, free, out, total) {
  const a = open(where);
  const text = new Uint8Array(a.size * 40);
  for await (const b of jobs) {
    const s = await free.recv();
    const [from, count] = batchRange(b, a.size, total);
    a.counts[s] = parse(generate(from, count, text), a.cols[s]);
    await out.send(s);
  }
}

/** Adds BMI and category to each parsed slot. */
export async function convertStage(where, input, out) {
  const a = open(where);
  for await (const s of input) {
    convert(a.cols[s], a.counts[s]);
    await out.send(s);
  }
}

/** Encodes each slot, frees it, reports the rows to the progress meter; returns rows and checksum. */
export async function encodeStage(where, input, free, meter) {
  const a = open(where);
  const text = outputBuffer(a.size);
  let rows = 0;
  let sum = 0;
  for await (const s of input) {
    const r = encode(a.cols[s], a.counts[s], text);
    await free.send(s);
    rows += r.rows;
    sum += r.sum;
    meter.progress(r.rows);
  }
  return { rows, sum };
}

/**
 * All three stages in one task (a "lane"): takes batch numbers from `jobs` and runs each batch
 * through generate → parse → convert → encode on this thread, in a column set of its own. On
 * few cores, a task per core doing whole batches keeps every core busy with no hand-offs at all;
 * the channel deals out the batches, so a faster lane simply takes more of them.
 *
 * A lane is synchronous (blocking iteration over `jobs`): it holds its pool thread until the
 * jobs run out, so each lane gets a thread of its own. An async lane would give its thread back
 * at every `await`, and a thread whose awaits resolve at once may take the other lanes too,
 * leaving a core idle (go() places a task on whichever thread is free to start it).
 */
export function laneStage(jobs, meter, size, total) {
  const cols = columns(size);
  const input = new Uint8Array(size * 40);
  const output = outputBuffer(size);
  let rows = 0;
  let sum = 0;
  for (const b of jobs) {
    const [from, count] = batchRange(b, size, total);
    const n = parse(generate(from, count, input), cols);
    convert(cols, n);
    const r = encode(cols, n, output);
    rows += r.rows;
    sum += r.sum;
    meter.progress(r.rows);
  }
  return { rows, sum };
}
