// Streaming with a moving average (Effective Concurrency in Go, ch. 9, streaming data through a
// pipeline): a sensor on a pool thread sends readings on a channel, a stage keeps the average of
// the last WINDOW readings, and the averages flow into an ordinary Node stream pipeline through
// toReadable(); a toWritable() at the end shows the other direction (stream → channel).
//
//   node examples/moving-average.js [readings] [window]
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Chan, background, go, stage, toReadable, toWritable } from 'weft';

const N = Number(process.argv[2] ?? 1000);
const WINDOW = Number(process.argv[3] ?? 10);
const SENSOR = new URL('./lib/sensor.js', import.meta.url);

/** A moving average over the last `size` values (a ring of the values and their running sum). */
function movingAverage(size) {
  const ring = new Array(size).fill(0);
  let sum = 0;
  let count = 0;
  return ({ t, value }) => {
    sum += value - ring[count % size];
    ring[count % size] = value;
    count++;
    return { t, value, avg: Math.round((sum / Math.min(count, size)) * 1000) / 1000 };
  };
}

const ctx = background();
const readings = new Chan(32);
const sensor = go(SENSOR, 'sample', readings, N);
const averages = stage(ctx, readings, movingAverage(WINDOW), { capacity: 32 });

// Channel → stream: a Transform keeps every 100th line for printing; the rest of the stream
// goes on into a channel again (stream → channel), whose reader sums the averages.
const printed = [];
const report = new Transform({
  objectMode: true,
  transform(a, _enc, cb) {
    if (a.t % 100 === 0) printed.push(`t=${a.t} value=${a.value.toFixed(2)} avg=${a.avg.toFixed(3)}`);
    cb(null, a.avg);
  },
});
const sums = new Chan(16);
const total = (async () => {
  let n = 0;
  let sum = 0;
  let last;
  for await (const avg of sums) {
    n++;
    sum += avg;
    last = avg;
  }
  return { n, sum, last };
})();
await pipeline(toReadable(averages, { highWaterMark: 8 }), report, toWritable(sums, { highWaterMark: 8 }));
await averages.done;
const produced = await sensor;
const { n, sum, last } = await total;
for (const line of printed) console.log(line);
console.log(`summary: ${n} of ${produced} readings, window ${WINDOW}, mean of averages ${(sum / n).toFixed(3)}, last average ${last.toFixed(3)}`);
