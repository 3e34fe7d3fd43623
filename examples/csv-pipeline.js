// The CSV pipeline of Effective Concurrency in Go (ch. 9 "Pipelines"): parse → convert → encode
// over generated CSV rows of {row,height,weight,name}, in the book's four shapes:
//
//   node examples/csv-pipeline.js sync     [rows]  a plain loop, one step after the other
//   node examples/csv-pipeline.js async    [rows]  each step a stage, connected by channels
//   node examples/csv-pipeline.js fanout   [rows]  several convert stages on pool threads, fanIn
//   node examples/csv-pipeline.js ordered  [rows]  the same, merged back in row order (orderedFanIn)
//
// Prints the first records, then a summary line: mode, rows, checksum (the same in every mode),
// whether the output came in row order, and the time taken.
import { availableParallelism } from 'node:os';
import { Chan, background, fanIn, orderedFanIn, pipeFrom, stage, withCancel } from 'weft';
import { convert, csvLines, encode, hash, parse } from './lib/csv.js';

const mode = process.argv[2] ?? 'async';
const rows = Number(process.argv[3] ?? 20_000);
const CSV = new URL('./lib/csv.js', import.meta.url);
const converters = Math.max(2, availableParallelism());

// The sink: counts the encoded records, adds up their hashes, checks their order.
let count = 0;
let checksum = 0;
let inOrder = true;
function sink({ row, json }) {
  if (row !== count) inOrder = false;
  if (count < 3) console.log(json);
  count++;
  checksum = (checksum + hash(json)) % 2 ** 32;
}

/** The lines of the input, sent on a channel by a producer (pipeFrom closes it at the end). */
function source(ctx) {
  const lines = new Chan(64);
  pipeFrom(csvLines(rows), lines, { signal: ctx.signal }).catch(() => {});
  return lines;
}

const pipelines = {
  // One goroutine: each line goes through the three steps before the next one is read.
  async sync() {
    for (const line of csvLines(rows)) sink(encode(convert(parse(line))));
  },

  // A goroutine per step: parse, convert and encode overlap, connected by buffered channels.
  async async() {
    const [ctx, cancel] = withCancel(background());
    const parsed = stage(ctx, source(ctx), parse, { capacity: 64 });
    const converted = stage(ctx, parsed, convert, { capacity: 64 });
    const encoded = stage(ctx, converted, encode, { capacity: 64 });
    for (const s of [parsed, converted, encoded]) s.done.catch(cancel);
    for await (const e of encoded) sink(e);
    await Promise.all([parsed.done, converted.done, encoded.done]);
  },

  // Fan-out: several convert stages, on pool threads, take from the same channel; fan-in merges
  // their outputs. Rows come out in whatever order the converters finish them.
  async fanout() {
    const [ctx, cancel] = withCancel(background());
    const parsed = stage(ctx, source(ctx), parse, { capacity: 64 });
    const workers = Array.from({ length: converters }, () =>
      stage(ctx, parsed, { module: CSV, export: 'convert' }, { capacity: 64 }),
    );
    const encoded = stage(ctx, fanIn(ctx, ...workers), encode, { capacity: 64 });
    const all = [parsed, ...workers, encoded];
    for (const s of all) s.done.catch(cancel);
    for await (const e of encoded) sink(e);
    await Promise.all(all.map((s) => s.done));
  },

  // Ordered fan-in: the same fan-out, merged back by row number; a converter that runs ahead
  // waits for the rows before its own.
  async ordered() {
    const [ctx, cancel] = withCancel(background());
    const parsed = stage(ctx, source(ctx), parse, { capacity: 64 });
    const workers = Array.from({ length: converters }, () =>
      stage(ctx, parsed, { module: CSV, export: 'convert' }, { capacity: 64 }),
    );
    const merged = orderedFanIn(ctx, (rec) => rec.row, ...workers);
    const encoded = stage(ctx, merged, encode, { capacity: 64 });
    const all = [parsed, ...workers, encoded];
    for (const s of all) s.done.catch(cancel);
    for await (const e of encoded) sink(e);
    await Promise.all(all.map((s) => s.done));
  },
};

if (!(mode in pipelines) || !Number.isInteger(rows) || rows < 0) {
  console.error(`usage: node examples/csv-pipeline.js ${Object.keys(pipelines).join('|')} [rows]`);
  process.exit(2);
}
const t0 = performance.now();
await pipelines[mode]();
const ms = performance.now() - t0;
console.log(`${mode}: ${count} rows, checksum ${checksum}, ordered ${inOrder ? 'yes' : 'no'}, ${ms.toFixed(0)} ms`);
