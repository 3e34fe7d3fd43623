// The stages of the demo's weft pipeline (examples/demo.js). Each runs as a go() task on weft's
// pool and is connected to the next by a weft channel; a message is a batch of rows.
//
// They are async: a stage awaits its input, so a pool thread runs every stage that has work
// while the others wait (go()'s M:N scheduling), and the pipeline uses each core without
// starting a thread per stage.
import { generate, parse, convert, encode, batchRange } from './demo-rows.js';

/** Takes batch numbers from `jobs`, generates and parses those rows, sends the columns on. */
export async function parseStage(jobs, out, size, total) {
  for await (const b of jobs) {
    const [from, count] = batchRange(b, size, total);
    await out.send(parse(generate(from, count)));
  }
}

/** Adds BMI and category to each parsed batch. */
export async function convertStage(input, out) {
  for await (const rows of input) await out.send(convert(rows));
}

/** Encodes each batch, reports the rows to the progress meter, returns rows and checksum. */
export async function encodeStage(input, meter) {
  let rows = 0;
  let sum = 0;
  for await (const batch of input) {
    const r = encode(batch);
    rows += r.rows;
    sum += r.sum;
    meter.progress(r.rows);
  }
  return { rows, sum };
}
