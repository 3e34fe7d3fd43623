// One stage of the demo's hand-written postMessage pipeline (examples/demo.js): the baseline
// weft is compared with. `workerData.stage` says which; `input` and `output` are MessagePorts
// (batches in, batches out); typed arrays are transferred, not copied, as a careful hand-written
// pipeline would do. The message `'end'` marks the end of a run and is passed on.
import { parentPort, workerData } from 'node:worker_threads';
import { generate, parse, convert, encode, batchRange } from './demo-rows.js';

const { stage, input, output, size, total } = workerData;

const work = {
  parse(b) {
    const [from, count] = batchRange(b, size, total);
    const r = parse(generate(from, count));
    return [r, [r.id.buffer, r.height.buffer, r.weight.buffer, r.nameLen.buffer, r.names.buffer]];
  },
  convert(rows) {
    const r = convert(rows);
    return [r, [r.id.buffer, r.nameLen.buffer, r.names.buffer, r.bmi.buffer, r.category.buffer]];
  },
  encode(rows) {
    const { rows: n, sum } = encode(rows);
    return [{ rows: n, sum }, []];
  },
}[stage];

input.on('message', (m) => {
  if (m === 'end') {
    output.postMessage('end');
    return;
  }
  const [result, transfer] = work(m);
  output.postMessage(result, transfer);
});
parentPort.postMessage('ready');
