// Error handling in pipelines (Effective Concurrency in Go, ch. 9 "Pipelines"): two ways to
// deal with bad input in the CSV pipeline.
//
// 1. Error channel: a bad row does not stop the pipeline. The converters (on pool threads)
//    report it as a value, the sink forwards it to an error channel, and a separate reader
//    of that channel logs the errors while the good rows keep flowing.
// 2. Stop on first error: the converter throws; its stage cancels itself (`done` rejects with
//    the error) and we cancel the shared context, which stops every other stage and the source.
//
//   node examples/pipeline-errors.js [rows]
import { Chan, background, pipeFrom, stage, withCancel } from 'weft';
import { csvLine } from './lib/csv.js';

const rows = Number(process.argv[2] ?? 200);
const CSV = new URL('./lib/csv.js', import.meta.url);
const BAD = new Set([17, 42, 99]);

/** The input, with a broken height on rows 17, 42 and 99. */
function* input() {
  for (let i = 0; i < rows; i++) {
    const line = csvLine(i);
    yield BAD.has(i) ? line.replace(/^(\d+),[^,]*/, '$1,tall') : line;
  }
}

async function withErrorChannel() {
  const [ctx, cancel] = withCancel(background());
  const lines = new Chan(16);
  pipeFrom(input(), lines, { signal: ctx.signal }).catch(() => {});
  const converted = stage(ctx, lines, { module: CSV, export: 'parseConvertChecked' }, { workers: 2, capacity: 16 });
  const errors = new Chan(4);
  // A reader of its own for the error channel, as the book's error goroutine.
  const logged = (async () => {
    const seen = [];
    for await (const msg of errors) seen.push(msg);
    return seen.sort((a, b) => Number(/\d+/.exec(a)[0]) - Number(/\d+/.exec(b)[0]));
  })();
  let good = 0;
  for await (const r of converted) {
    if (r.error !== undefined) await errors.send(r.error);
    else good++;
  }
  errors.close();
  await converted.done;
  cancel();
  const errs = await logged;
  for (const e of errs) console.log(`  ${e}`);
  console.log(`error channel: ${good} good rows, ${errs.length} errors`);
  return { good, errors: errs.length };
}

async function stopOnFirstError() {
  const [ctx, cancel] = withCancel(background());
  const lines = new Chan(16);
  const sent = pipeFrom(input(), lines, { signal: ctx.signal }).catch(() => -1);
  const parsed = stage(ctx, lines, { module: CSV, export: 'parse' }, { capacity: 16 });
  const converted = stage(ctx, parsed, { module: CSV, export: 'convert' }, { capacity: 16 });
  // The book's pattern: the first stage to fail cancels the context every stage shares.
  let first;
  for (const s of [parsed, converted]) {
    s.done.catch((e) => {
      first ??= e;
      cancel(e);
    });
  }
  let good = 0;
  for await (const _ of converted) good++;
  await Promise.allSettled([parsed.done, converted.done, sent]);
  console.log(`stop on first error: ${first ? first.message : 'none'} (${good} rows converted before the pipeline stopped)`);
  return { good, error: first?.message };
}

const a = await withErrorChannel();
const b = await stopOnFirstError();
console.log(`summary: ${a.good} + ${a.errors} rows with an error channel; stopped at '${b.error}' after ${b.good} rows`);
